"""The cluster interface and what every provider shares.

A provider answers for its own clusters the way kind's and kwok's providers do: whether it can
run here (`available`), creating (idempotent, repairing what it can), deleting, listing, each
cluster's health, and cleaning up everything it made, even after a killed run (`cleanup`).
Everything above it (the command line, the pipeline, the agent) only sees `Cluster`.

What a provider can do is data (`ProviderInfo`, after kind's), and what differs between
providers is a verb of the provider (`load_image`, `node`, `stop`, `pull_registry`): callers read
`info` and call the verb, and never probe for methods or branch on a provider's name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from demo.clusters.node import Node
from demo.core.checks import Check
from demo.core.errors import LabError
from demo.core.naming import check_name
from demo.core.run import CommandError, run
from demo.core.waits import until


class ClusterError(LabError):
    """A cluster could not be created, reached or deleted; the fix says what to do."""


@dataclass(frozen=True)
class Cluster:
    """A cluster as the rest of the lab sees it: a name, and how to reach it.

    `kubectl` is a kubectl within Kubernetes' version-skew policy of this cluster (one minor
    either way), so every kubectl command line the lab runs is built here.
    """

    name: str  # the short name the reader chose, e.g. "east"
    provider: str
    kubeconfig: Path
    context: str
    kubectl_path: Path

    def kubectl_command(self, *args: str | Path) -> list[str]:
        return [
            str(self.kubectl_path),
            "--kubeconfig",
            str(self.kubeconfig),
            "--context",
            self.context,
            *(str(a) for a in args),
        ]

    def kubectl(self, *args: str | Path, input: str | None = None, timeout: float = 120) -> str:
        return run(self.kubectl_command(*args), input=input, timeout=timeout)

    def wait_condition(self, condition: str, *objects: str, timeout: float = 60) -> None:
        """Until every object (`kubectl get` arguments) has `condition` True. Polled here
        rather than `kubectl wait`, which fails at once on an object whose status has no
        conditions yet (a CRD or a node just created)."""
        waiting: list[str] = []

        def met() -> bool:
            found = json.loads(self.kubectl("get", *objects, "-o", "json"))
            items = (
                found.get("items", [found]) if found.get("kind", "").endswith("List") else [found]
            )
            waiting[:] = [
                item["metadata"]["name"]
                for item in items
                if not any(
                    c.get("type") == condition and c.get("status") == "True"
                    for c in (item.get("status") or {}).get("conditions") or []
                )
            ]
            return bool(items) and not waiting

        until(
            met,
            timeout=timeout,
            every=0.2,
            message=lambda: (
                f"{self.name}: {', '.join(waiting) or ' '.join(objects)} not"
                f" {condition} after {timeout:g} s"
            ),
            fix="`python -m demo status` shows the cluster; `python -m demo up` repairs it",
            error=ClusterError,
        )


@dataclass(frozen=True)
class Health:
    """What `status` shows of a cluster: Ready, or what is wrong and what to do."""

    ready: bool
    detail: str
    version: str = ""
    fix: str = ""


def api_health(cluster: Cluster, nodes: int | None = None) -> Health:
    """Ask the cluster itself: does its API answer, which version, are its nodes Ready?"""
    fix = "`python -m demo up` repairs it; if it stays broken, `python -m demo down` and up again"
    if not cluster.kubeconfig.is_file():
        return Health(False, f"its kubeconfig {cluster.kubeconfig} is missing", fix=fix)
    try:
        cluster.kubectl("get", "--raw", "/readyz", timeout=15)
        version = json.loads(cluster.kubectl("version", "-o", "json", timeout=15))
        listed = json.loads(cluster.kubectl("get", "nodes", "-o", "json", timeout=15))
    except (CommandError, ValueError) as error:
        reason = str(error).splitlines()[-1][:160] if str(error) else type(error).__name__
        return Health(False, f"its API server does not answer ({reason})", fix=fix)
    server = version.get("serverVersion", {}).get("gitVersion", "")
    ready = sum(
        1
        for node in listed.get("items", [])
        for condition in node.get("status", {}).get("conditions", [])
        if condition.get("type") == "Ready" and condition.get("status") == "True"
    )
    total = len(listed.get("items", []))
    wanted = total if nodes is None else nodes
    if ready < max(wanted, 1):
        return Health(False, f"{ready} of {max(wanted, 1)} node(s) Ready", server, fix)
    return Health(True, f"Ready, {ready} node(s)", server)


def minor(version: str) -> tuple[int, int]:
    """(major, minor) of a Kubernetes version such as v1.2.3 or v1.2.3+k3s1."""
    major, minor_, *_ = version.removeprefix("v").split(".")
    return int(major), int("".join(c for c in minor_ if c.isdigit()) or 0)


def skew_problem(client: str, server: str) -> str | None:
    """Why a kubectl of version `client` must not drive a `server`, or None when it may.

    Kubernetes supports kubectl within one minor version of kube-apiserver.
    """
    (client_major, client_minor), (server_major, server_minor) = minor(client), minor(server)
    if client_major != server_major or abs(client_minor - server_minor) > 1:
        return (
            f"kubectl {client} is outside Kubernetes' version-skew policy for a {server}"
            " API server (one minor version either way)"
        )
    return None


DEFAULT_NAMES = ("east", "west", "north", "south", "centre")


def default_names(count: int) -> list[str]:
    """Names for `count` new clusters: compass points first, then numbered ones."""
    if count < 1:
        raise ClusterError(f"{count} is not a number of clusters", "ask for 1 or more")
    return [DEFAULT_NAMES[i] if i < len(DEFAULT_NAMES) else f"c{i + 1}" for i in range(count)]


@dataclass(frozen=True)
class ProviderInfo:
    """What a provider's clusters can do, read by the callers that depend on it."""

    # Pods really run: pull agents run inside the clusters, and images are loaded onto nodes.
    runs_pods: bool = False
    # A cluster's control-plane node can be reached (`node`): the mini-labs' node steps.
    node_access: bool = False
    # A cluster can be stopped and started again (`stop`, `start`): the outage experiments.
    stops: bool = False
    # Ports on the reader's loopback its clusters need free (kind's registry: 5001).
    host_ports: tuple[int, ...] = ()


class Provider(Protocol):
    name: str
    info: ProviderInfo
    # The Docker network its clusters' pods live on, where the lab's services must run to be
    # reachable by name (kind's), or None when they run on the host's loopback.
    network: str | None

    def prepare(self, log: Callable[[str], None]) -> None:
        """Get what this provider needs that the lab can get itself (tools, binaries)."""

    def names(self, count: int) -> list[str]:
        """The clusters `up` uses when the reader names none."""

    def available(self) -> list[Check]:
        """What this provider needs on this machine, each as a check with its fix."""

    def create(self, name: str) -> Cluster:
        """Create one cluster, return it if it is healthy, repair it if it is not."""

    def delete(self, name: str) -> None:
        """Delete one cluster and wait until it is gone; a missing one is not an error."""

    def list(self) -> list[Cluster]:
        """The clusters of this provider that the lab owns."""

    def health(self, cluster: Cluster) -> Health:
        """Whether `cluster` is Ready, or what is wrong with it."""

    def cleanup(self, log: Callable[[str], None]) -> list[str]:
        """Remove every cluster and process this provider made; what could not be removed."""

    def load_image(self, name: str, image: str) -> None:
        """Copy a local image onto every node of a cluster (where `info.runs_pods`)."""

    def load_archive(self, name: str, archive: Path) -> None:
        """The same from a `docker save` archive, to load one image into many clusters."""

    def node(self, name: str) -> Node | None:
        """The cluster's control-plane node (where `info.node_access`), else None."""

    def stop(self, name: str) -> None:
        """Take a cluster down as an outage would, its data kept (where `info.stops`)."""

    def start(self, name: str) -> None:
        """Bring a stopped cluster back and wait until its API server answers."""

    def pull_registry(self, clusters: Sequence[Cluster]) -> str | None:
        """Where its clusters pull the lab's images from, when that registry must run beside
        them (kind's network recipe): started and announced in each cluster; None when the
        lab's own registry on the host's loopback serves them."""

    def running_pull_registry(self) -> str | None:
        """The address of that registry while it runs, None otherwise."""


class HostProvider:
    """The verbs of a provider whose clusters run no pods and have no node to reach (kwok, an
    existing context): each refuses, saying why, and the lab's loopback registry serves."""

    name = "host"
    info = ProviderInfo()
    network: str | None = None

    def load_image(self, name: str, image: str) -> None:
        raise self._cannot("load images onto nodes", "its pods do not run")

    def load_archive(self, name: str, archive: Path) -> None:
        raise self._cannot("load images onto nodes", "its pods do not run")

    def node(self, name: str) -> Node | None:
        return None

    def stop(self, name: str) -> None:
        raise self._cannot("stop a cluster", "it has no stop")

    def start(self, name: str) -> None:
        raise self._cannot("start a cluster", "it has no start")

    def pull_registry(self, clusters: Sequence[Cluster]) -> str | None:
        return None

    def running_pull_registry(self) -> str | None:
        return None

    def _cannot(self, what: str, why: str) -> ClusterError:
        return ClusterError(
            f"the {self.name} provider cannot {what}: {why}",
            "use PROVIDER=kind for what needs real pods or a node; kwok for outages",
        )


def create_all(
    provider: Provider,
    names: Sequence[str],
    progress: Callable[[str], None] = print,
) -> list[Cluster]:
    """Create clusters in parallel, reporting each as it becomes ready."""
    started = time.perf_counter()
    for name in names:
        check_name(name)  # check every name before starting anything

    def one(name: str) -> Cluster:
        began = time.perf_counter()
        cluster = provider.create(name)
        progress(f"cluster {name} ({provider.name}) ready in {time.perf_counter() - began:.1f} s")
        return cluster

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        clusters = list(pool.map(one, names))
    progress(f"{len(clusters)} cluster(s) ready in {time.perf_counter() - started:.1f} s")
    return clusters
