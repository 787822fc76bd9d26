"""kind provider: each cluster a kind cluster in Docker, for readers and workshops.

Two setups, chosen once per machine (`KindSetup`):
- published, on a reader's laptop: our own pinned kind and kubectl, downloaded and checked,
  and kind's default node image pinned by digest;
- local, where `kindest/node` can be neither found nor pulled (our machines, CI): kind built
  from its module at a version that knows the lab's Kubernetes, the node image built here
  (`demo.clusters.kind.nodeimage`), the lab's own kubectl, and, where `docker run --privileged` is
  refused, the docker shim (`demo.clusters.kind.shim`) first on kind's PATH. Its clusters live on a
  network of their own that carries the lab's label, so `down` removes it.
Every node gets containerd's hosts.toml for the lab's registry (kind's local-registry recipe,
`demo.clusters.kind.network`). Both setups drive kind with the lab's own runner, under its
timeouts and process groups (pytest-kind's `KindCluster` runs `kind create` with no timeout
and brings a Kubernetes client of its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from demo.clusters.base import (
    Cluster,
    ClusterError,
    Health,
    ProviderInfo,
    api_health,
    default_names,
)
from demo.clusters.kind import network as kindnet
from demo.clusters.kind import nodeimage
from demo.clusters.kind.downloads import kind_binaries
from demo.clusters.node import Node
from demo.core import docker, versions
from demo.core.checks import Check, inotify, port_free
from demo.core.context import LabContext
from demo.core.entrypoints import source
from demo.core.naming import PREFIX, lab_name, short_name
from demo.core.paths import write_atomic
from demo.core.run import CommandError, run
from demo.toolchain import images, provision

KIND_CONFIG = f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  {kindnet.containerd_patch().replace(chr(10), chr(10) + "  ")}
networking:
  apiServerAddress: "127.0.0.1"
"""
# The local node image's kubelet runs on cgroup v1 hosts too (refused by default from 1.35 on).
LOCAL_PATCHES = """\
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  failCgroupV1: false
"""
LOCAL_NETWORK = f"{PREFIX}kind"
SHIM = """#!/bin/sh
# kind's docker where `docker run --privileged` is refused: see demo/clusters/kind/shim.py.
exec "{python}" "{shim}" "$@"
"""


@dataclass(frozen=True)
class KindSetup:
    """Which kind, kubectl, node image and network this machine uses, and whether the shim."""

    mode: str  # "published" or "local"
    kind: str
    kubectl: str
    image: str
    network: str
    shim: str = ""  # a folder whose `docker` is the shim, or "" where --privileged works

    def env(self) -> dict[str, str]:
        environment = dict(os.environ)
        if self.mode == "local":
            environment["KIND_EXPERIMENTAL_DOCKER_NETWORK"] = self.network
        if self.shim:
            environment["TELLIT_REAL_DOCKER"] = shutil.which(docker.DOCKER) or "/usr/bin/docker"
            environment["PATH"] = self.shim + os.pathsep + environment.get("PATH", "")
        return environment

    def config(self) -> str:
        return KIND_CONFIG + (LOCAL_PATCHES if self.mode == "local" else "")


def privileged_refused(image: str) -> bool:
    """Whether `docker run --privileged` fails here while a plain run of the same image works."""
    probe = ["--rm", "--network", "none", "--entrypoint", "/bin/true"]
    run(docker.run_argv(image, options=probe), timeout=120)  # else Docker itself is the problem
    try:
        run(docker.run_argv(image, options=[*probe, "--privileged"]), timeout=120)
        return False
    except CommandError:
        return True


def write_shim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = SHIM.format(python=sys.executable, shim=source("kindshim"))
    write_atomic(folder / "docker", script, mode=0o755)
    return folder


def _no_outages() -> ClusterError:
    return ClusterError(
        "the kind provider does not stop and start clusters (info.stops is False)",
        "run the outage experiments on kwok (EXPERIMENT_PROVIDER=kwok)",
    )


class KindProvider:
    name = "kind"
    # Real pods: the pull agent runs inside each cluster (demo.delivery.agent.incluster); each
    # node is a container the mini-labs reach; the registry is published on the reader's 5001.
    info = ProviderInfo(runs_pods=True, node_access=True, host_ports=kindnet.PORTS)

    def __init__(self, lab: LabContext, image: str | None = None) -> None:
        self.root = lab.state / self.name  # the lab state's kind folder
        self.tools = lab.tools
        self.image = image  # a published node image to use instead of choosing one

    # The setup, chosen once by `prepare` and kept in the state folder for later commands.
    @property
    def setup_file(self) -> Path:
        return self.root / "setup.json"

    def setup(self) -> KindSetup:
        try:
            return KindSetup(**json.loads(self.setup_file.read_text()))
        except (OSError, ValueError, TypeError):
            return self.published_setup()

    def published_setup(self) -> KindSetup:
        kind, kubectl = kind_binaries(self.root / "bin")
        image = self.image or versions.KIND_NODE_IMAGE
        return KindSetup("published", str(kind), str(kubectl), image, kindnet.NETWORK)

    def local_setup(self, log: Callable[[str], None]) -> KindSetup:
        # The image first: building it builds every tool it needs. Running clusters needs
        # only kind and kubectl (a warm machine that loads the image builds nothing else).
        image = nodeimage.ensure(self.tools, log=log)
        # kubectl alone where an offline bundle brought it, else with the control plane's build.
        kubectl = "kubectl" if provision.KUBECTL.present(self.tools) else "kubernetes"
        everything = (*provision.TOOLS, *provision.NODE_TOOLS, provision.KUBECTL)
        needed = tuple(tool for tool in everything if tool.name in ("kind", kubectl))
        provision.ensure(self.tools, log=log, tools=needed)
        tools = provision.binaries(self.tools, tools=needed)
        shim = ""
        before = self.setup() if self.setup_file.is_file() else None
        if before and before.mode == "local" and before.image == image:
            refused = bool(before.shim)  # asked already for this image: Docker's answer stands
        else:
            refused = privileged_refused(image)
        if refused:
            log("kind: `docker run --privileged` is refused here; nodes start through the shim")
            shim = str(write_shim(self.root / "shim"))
        return KindSetup(
            "local", str(tools["kind"]), str(tools["kubectl"]), image, LOCAL_NETWORK, shim
        )

    @property
    def network(self) -> str:
        return self.setup().network

    def registry_image(self) -> str:
        """The registry the nodes pull from: the readers' `registry:3`, or Debian's here."""
        if self.setup().mode == "local":
            return images.ensure_registry_image()
        return kindnet.REGISTRY_IMAGE

    def pull_registry(self, clusters: Sequence[Cluster]) -> str:
        """kind's local-registry recipe: a registry container on the clusters' network,
        published on the reader's loopback and announced in every cluster."""

        def apply(cluster: Cluster, manifest: str) -> None:
            cluster.kubectl("apply", "-f", "-", input=manifest)

        labels = docker.lab_labels(self.root.parent)  # the lab state's, for `down`
        return kindnet.start_registry(
            clusters, apply, image=self.registry_image(), network=self.network, labels=labels
        )

    def running_pull_registry(self) -> str | None:
        return kindnet.REGISTRY_ADDRESS if kindnet.registry_running() else None

    def node(self, name: str) -> Node:
        """The cluster's one node, a container named as kind names it."""
        return Node(f"{lab_name(name)}-control-plane")

    def stop(self, name: str) -> None:
        raise _no_outages()

    def start(self, name: str) -> None:
        raise _no_outages()

    def kubeconfig(self, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{lab_name(name)}.yaml"

    def config_file(self) -> Path:
        path = self.root / "kind-config.yaml"
        write_atomic(path, self.setup().config(), mode=0o644)
        return path

    def binaries(self) -> tuple[Path, Path]:
        """kind and a kubectl of the node image's Kubernetes minor."""
        setup = self.setup()
        return Path(setup.kind), Path(setup.kubectl)

    def _cluster(self, name: str) -> Cluster:
        _, kubectl = self.binaries()
        return Cluster(name, self.name, self.kubeconfig(name), f"kind-{lab_name(name)}", kubectl)

    def _kind(self, *args: str | Path, timeout: float = 120) -> str:
        setup = self.setup()
        return run([setup.kind, *args], env=setup.env(), timeout=timeout)

    def prepare(self, log: Callable[[str], None]) -> None:
        """Choose the setup: the published node image where it can be had, else the local one."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.image or nodeimage.can_pull_published():
            log("kind: the published node image; kind and kubectl: checking")
            setup = self.published_setup()
        else:
            log("kind: kindest/node cannot be pulled here; using the node image built here")
            setup = self.local_setup(log)
            docker.ensure_network(setup.network, docker.lab_labels(self.root.parent))
        write_atomic(self.setup_file, json.dumps(asdict(setup), indent=2) + "\n")

    def names(self, count: int) -> list[str]:
        return default_names(count)

    def available(self) -> list[Check]:
        found = shutil.which(docker.DOCKER)
        return [
            Check(
                "docker (for kind)",
                found is not None,
                found or "missing",
                "install Docker (Debian: apt-get install docker.io; macOS: Docker Desktop)",
            ),
            *(self.port_check(port) for port in kindnet.PORTS),
            *inotify(required=True),
            *(self.node_checks() if found else []),
        ]

    @staticmethod
    def port_check(port: int) -> Check:
        """The registry's port is free, or held by the lab's own registry (a lab that is up)."""
        check = port_free(port)
        if not check.ok:
            with contextlib.suppress(CommandError):
                if kindnet.registry_running():
                    return Check(check.name, True, "the lab's registry listens there")
        return check

    def node_checks(self) -> list[Check]:
        """Which node image this machine has, and how kind will start nodes here."""
        try:
            if docker.image_exists(versions.KIND_NODE_IMAGE):
                return [Check("kind node image", True, f"published {versions.KIND_NODE_IMAGE}")]
            built = nodeimage.built_images()
        except CommandError:
            return []  # Docker does not answer: the shared docker check says so
        if not built:
            return [
                Check(
                    "kind node image",
                    False,
                    "none here yet",
                    "`make demo` pulls kindest/node; where nothing can be pulled, `make"
                    " node-image` builds one here (about 10 minutes the first time)",
                    required=False,
                )
            ]
        image = built[0]
        checks = [Check("kind node image", True, f"{image}, built here (make node-image)")]
        try:
            refused = privileged_refused(image)
        except CommandError as error:
            return [*checks, Check("docker run", False, str(error).splitlines()[0], "fix Docker")]
        checks.append(
            Check(
                "docker run --privileged",
                True,
                "refused here: kind starts nodes through the lab's docker shim"
                " (demo/clusters/kind/shim.py)"
                if refused
                else "allowed",
            )
        )
        version = "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1"
        checks.append(
            Check(
                "cgroups",
                True,
                f"{version}"
                + (": kubelet runs with failCgroupV1: false" if version == "v1" else ""),
            )
        )
        return checks

    def create(self, name: str) -> Cluster:
        try:
            self._create(name)
            for node in self.nodes(name):
                kindnet.configure_node(node)
            # kind waits for the node only: pods made before CoreDNS is Ready cannot resolve
            # names, and the default ServiceAccount may not exist yet.
            made = self._cluster(name)
            made.kubectl(
                "rollout",
                "status",
                "-n",
                "kube-system",
                "deployment/coredns",
                "--timeout=180s",
                timeout=200,
            )
            made.kubectl(
                "wait", "--for=create", "serviceaccount/default", "--timeout=60s", timeout=80
            )
        except (CommandError, OSError) as error:
            raise ClusterError(
                f"could not create kind cluster {name}",
                "`python -m demo doctor --provider kind` checks Docker and the machine",
            ) from error
        made = self._cluster(name)
        health = self.health(made)
        if not health.ready:
            raise ClusterError(
                f"kind cluster {name} is broken: {health.detail}",
                "remove it with `python -m demo down`, then run `python -m demo up` again",
            )
        return made

    def create_args(self, name: str) -> list[str | Path]:
        """`kind create cluster`'s arguments: the pinned image, the lab's config and a
        kubeconfig in the lab state, waiting for the node."""
        return [
            "create",
            "cluster",
            "--name",
            lab_name(name),
            "--image",
            self.setup().image,
            "--config",
            self.config_file(),
            "--kubeconfig",
            self.kubeconfig(name),
            "--wait",
            "180s",
        ]

    def _create(self, name: str) -> None:
        """`kind create cluster` (re-used when it exists already), waiting for its node."""
        if name in {c.name for c in self.list()}:
            return
        self.kubeconfig(name).parent.mkdir(parents=True, exist_ok=True)
        self._kind(*self.create_args(name), timeout=600)
        self.kubeconfig(name).chmod(0o600)

    def load_archive(self, name: str, archive: Path) -> None:
        """Put the images of a `docker save` archive into the cluster's nodes (no registry)."""
        self._kind("load", "image-archive", archive, "--name", lab_name(name), timeout=600)

    def nodes(self, name: str) -> list[str]:
        output = self._kind("get", "nodes", "--name", lab_name(name))
        return [line for line in output.split() if line]

    def health(self, cluster: Cluster) -> Health:
        return api_health(cluster)

    def load_image(self, name: str, image: str) -> None:
        """Copy a local image into every node of a cluster (`kind load`): no registry, no pull."""
        self._kind("load", "docker-image", image, "--name", lab_name(name), timeout=300)

    def delete(self, name: str) -> None:
        if name in {c.name for c in self.list()}:
            self._kind("delete", "cluster", "--name", lab_name(name), timeout=300)
        self.kubeconfig(name).unlink(missing_ok=True)

    def list(self) -> list[Cluster]:
        output = self._kind("get", "clusters")
        names = (short_name(full) for full in output.split())
        return [self._cluster(name) for name in names if name]

    def cleanup(self, log: Callable[[str], None]) -> list[str]:
        """Delete every cluster of the lab, all at once (each is its own containers)."""

        def one(cluster: Cluster) -> str | None:
            log(f"deleting kind cluster {cluster.name}")
            try:
                self.delete(cluster.name)
            except (CommandError, OSError) as error:
                return f"kind cluster {cluster.name}: {error}"
            return None

        clusters = self.list()
        with ThreadPoolExecutor(max_workers=max(1, len(clusters))) as pool:
            return [problem for problem in pool.map(one, clusters) if problem]
