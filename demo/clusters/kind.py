"""kind provider: each cluster a kind cluster in Docker, for readers and workshops.

Driven through pytest-kind's `KindCluster`, with our own pinned kind and kubectl (its released
defaults are an old kind and amd64 only) and the node image pinned by digest. Every node gets
containerd's hosts.toml for the lab's registry (kind's local-registry recipe, `demo.kindnet`).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path

from .. import kindnet, versions
from ..checks import Check, inotify, port_free
from ..downloads import kind_binaries
from ..naming import lab_name, short_name
from ..paths import state_dir
from ..run import CommandError, run
from .base import Cluster, ClusterError, Health, api_health, default_names

KIND_CONFIG = f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  {kindnet.containerd_patch().replace(chr(10), chr(10) + "  ")}
networking:
  apiServerAddress: "127.0.0.1"
"""


class KindProvider:
    name = "kind"
    network = kindnet.NETWORK

    def __init__(self, root: Path | None = None, image: str = versions.KIND_NODE_IMAGE) -> None:
        self.root = root or state_dir() / "kind"
        self.image = image

    def kubeconfig(self, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{lab_name(name)}.yaml"

    def config_file(self) -> Path:
        path = self.root / "kind-config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KIND_CONFIG)
        return path

    def binaries(self) -> tuple[Path, Path]:
        """kind and a kubectl of the node image's Kubernetes minor (downloaded, verified)."""
        return kind_binaries(self.root / "bin")

    def _kind_cluster(self, name: str):
        from pytest_kind import KindCluster

        kind, kubectl = self.binaries()
        self.kubeconfig(name).parent.mkdir(parents=True, exist_ok=True)
        # KindCluster keeps a working folder relative to the current directory: keep it in ours.
        with contextlib.chdir(self.root):
            return KindCluster(
                name=lab_name(name),
                kubeconfig=self.kubeconfig(name),
                image=self.image,
                kind_path=kind,
                kubectl_path=kubectl,
            )

    def _cluster(self, name: str) -> Cluster:
        _, kubectl = self.binaries()
        return Cluster(name, self.name, self.kubeconfig(name), f"kind-{lab_name(name)}", kubectl)

    def prepare(self, log: Callable[[str], None]) -> None:
        """Download kind and kubectl (checksums verified) unless they are here already."""
        log("kind and kubectl: checking")
        self.binaries()

    def names(self, count: int) -> list[str]:
        return default_names(count)

    def available(self) -> list[Check]:
        docker = shutil.which("docker")
        return [
            Check(
                "docker (for kind)",
                docker is not None,
                docker or "missing",
                "install Docker (Debian: apt-get install docker.io; macOS: Docker Desktop)",
            ),
            *(port_free(port) for port in kindnet.PORTS),
            *inotify(required=True),
        ]

    def create(self, name: str) -> Cluster:
        cluster = self._kind_cluster(name)
        try:
            cluster.create(config_file=self.config_file())  # re-used when it exists already
            for node in self.nodes(name):
                kindnet.configure_node(node)
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

    def nodes(self, name: str) -> list[str]:
        kind, _ = self.binaries()
        output = run([kind, "get", "nodes", "--name", lab_name(name)])
        return [line for line in output.split() if line]

    def health(self, cluster: Cluster) -> Health:
        return api_health(cluster)

    def delete(self, name: str) -> None:
        if name in {c.name for c in self.list()}:
            self._kind_cluster(name).delete()
        self.kubeconfig(name).unlink(missing_ok=True)

    def list(self) -> list[Cluster]:
        kind, _ = self.binaries()
        output = run([kind, "get", "clusters"])
        names = (short_name(full) for full in output.split())
        return [self._cluster(name) for name in names if name]

    def cleanup(self, log: Callable[[str], None]) -> list[str]:
        left = []
        for cluster in self.list():
            log(f"deleting kind cluster {cluster.name}")
            try:
                self.delete(cluster.name)
            except (CommandError, OSError) as error:
                left.append(f"kind cluster {cluster.name}: {error}")
        return left
