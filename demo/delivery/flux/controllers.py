"""Flux beside the lab's own agent: the same git server, the same clusters, the same app.

Where no pod runs (kwok), the lab runs Flux's source-controller and kustomize-controller
itself, built from their Go modules by `make provision`, one pair per cluster as host
processes on loopback ports (their defaults listen on every address, so every address is
given). Each pair holds a token of a ServiceAccount that may touch only Flux's own kinds in
the app's namespace and impersonate the namespace's applier account; the Kustomization
applies as that account. A small receiver (`demo.delivery.flux.receiver`) takes the git server's
webhook and asks for a reconcile the way Flux's Receiver does.

On kind, readers install Flux from its released manifests (versions.FLUX_INSTALL_URL) and the
lab creates the same GitRepository and Kustomization, pointing at the git mirror the cluster
can reach.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from lightkube import ApiError, Client
from lightkube.generic_resource import create_namespaced_resource

from demo.clusters.base import Cluster
from demo.core import versions
from demo.core.context import LabContext
from demo.core.entrypoints import python_m
from demo.core.errors import LabError
from demo.core.processes import free_port, free_ports, listening, wait_closed
from demo.core.waits import until
from demo.delivery.agent.settings import SECRET_VARIABLE
from demo.delivery.flux.objects import (
    APPLIER,
    FLUX_NAMESPACE,
    KUSTOMIZATION,
    KUSTOMIZE_CONTROLLER,
    RECEIVER,
    SOURCE,
    SOURCE_CONTROLLER,
    controller_access,
    dump,
    git_repository,
    kustomization,
    receiver_access,
)
from demo.delivery.flux.receiver import GitRepository
from demo.kube.accounts import namespaced_role, service_account_kubeconfig
from demo.services.background import Service
from demo.toolchain import provision

Kustomization = create_namespaced_resource(
    "kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"
)
# Each controller and the account it runs as.
ACCOUNTS = {"source-controller": SOURCE_CONTROLLER, "kustomize-controller": KUSTOMIZE_CONTROLLER}
CONTROLLER_NAMES = tuple(ACCOUNTS)
TOKEN_LIFETIME = "24h"


class FluxError(LabError):
    """Flux could not be started or does not report."""


@dataclass(frozen=True)
class FluxStatus:
    """What Flux reports for one cluster, read from its objects' status."""

    ready: str  # the Kustomization's Ready condition: "True", "False" or "Unknown"
    reason: str
    message: str
    last_applied: str  # the commit of `lastAppliedRevision` ("main@sha1:<commit>")
    last_attempted: str
    fetched: str  # the commit of the GitRepository's artifact
    inventory: int  # how many objects Flux owns (what it prunes from)

    def data(self) -> dict[str, str]:
        """The agent's status keys, so one table shows either agent."""
        return {
            "lastAppliedRevision": self.last_applied,
            "lastError": self.message if self.ready == "False" else "",
            "ready": self.ready,
            "reason": self.reason,
            "fetchedRevision": self.fetched,
            "inventory": str(self.inventory),
        }


def commit_of(revision: str) -> str:
    """`main@sha1:abc...` -> `abc...` (Flux's revision format)."""
    return revision.rsplit(":", 1)[-1] if revision else ""


def status_of(kustomization: dict, source: dict) -> FluxStatus:
    status = kustomization.get("status") or {}
    ready = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Ready"),
        {"status": "Unknown", "reason": "", "message": "not reconciled yet"},
    )
    artifact = (source.get("status") or {}).get("artifact") or {}
    return FluxStatus(
        ready=ready.get("status", "Unknown"),
        reason=ready.get("reason", ""),
        message=ready.get("message", ""),
        last_applied=commit_of(status.get("lastAppliedRevision", "")),
        last_attempted=commit_of(status.get("lastAttemptedRevision", "")),
        fetched=commit_of(artifact.get("revision", "")),
        inventory=len((status.get("inventory") or {}).get("entries") or []),
    )


def read_status(api: Client, namespace: str) -> FluxStatus:
    return status_of(
        _found(api, Kustomization, KUSTOMIZATION, namespace),
        _found(api, GitRepository, SOURCE, namespace),
    )


def _found(api: Client, resource, name: str, namespace: str) -> dict:
    """The object as a dict, or {} while it does not exist (not created, or not yet)."""
    try:
        return api.get(resource, name, namespace=namespace).to_dict()
    except ApiError as error:
        if error.status.code != 404:
            raise
        return {}


def crd_files(root: Path) -> list[Path]:
    """The CRDs of the controllers the lab built into the tools folder `root`, kept beside
    their binaries."""
    files = []
    for tool in provision.FLUX_TOOLS:
        files += sorted((tool.folder(root) / "crds").glob("*.yaml"))
    return files


def controller_args(name: str, ports: dict[str, int], storage: Path) -> list[str]:
    """Every listening address on loopback, and watching only the runtime namespace."""
    args = [
        "--watch-all-namespaces=false",
        f"--metrics-addr=127.0.0.1:{ports['metrics']}",
        f"--health-addr=127.0.0.1:{ports['health']}",
        "--log-encoding=console",
    ]
    if name == "source-controller":
        args += [
            f"--storage-addr=127.0.0.1:{ports['storage']}",
            f"--storage-adv-addr=127.0.0.1:{ports['storage']}",
            f"--storage-path={storage}",
        ]
    return args


def healthy(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx2.HTTPError:
        return False


class FluxOnHost:
    """Flux's two controllers and the receiver for one cluster, as lab services."""

    def __init__(self, cluster: Cluster, namespace: str, lab: LabContext) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.root = lab.state
        self.tools = lab.tools

    def service(self, part: str) -> Service:
        return Service.named(f"flux-{part}-{self.cluster.name}", self.root / "services")

    @property
    def parts(self) -> tuple[str, ...]:
        return ("source-controller", "kustomize-controller", "receiver")

    def ports(self) -> dict[str, dict[str, int]]:
        """Each running part's named ports, as its service recorded them."""
        found = {part: self.service(part).named_ports() for part in self.parts}
        return {part: ports for part, ports in found.items() if ports}

    def running(self) -> bool:
        """Whether the receiver, and the controllers where the lab runs them, are running."""
        parts = self.parts if self.ports().get("source-controller") else ("receiver",)
        return all(self.service(part).pid() for part in parts)

    def install(
        self,
        repo_url: str,
        interval: float,
        crds: bool = True,
        fetch_interval: float | None = None,
    ) -> None:
        """CRDs (unless Flux's own install brought them), accounts and the two Flux objects,
        as the cluster's admin: what `flux install` and `flux create` would do. The
        GitRepository polls every `fetch_interval` (default: `interval`); the Kustomization
        applies, and repairs drift, every `interval`."""
        if crds:
            files = crd_files(self.tools)
            if len(files) < 2:
                raise FluxError(
                    "Flux's controllers are not built",
                    "run `make provision` (it builds them from their Go modules)",
                )
            args = ["apply", "--server-side", "--force-conflicts"]
            self.cluster.kubectl(*args, *(f"--filename={f}" for f in files), timeout=120)
        self.cluster.wait_condition(
            "Established",
            "crd/gitrepositories.source.toolkit.fluxcd.io",
            "crd/kustomizations.kustomize.toolkit.fluxcd.io",
        )
        access = namespaced_role(self.namespace, APPLIER) + "---\n"
        access += dump(controller_access(self.namespace) + receiver_access(self.namespace))
        self.cluster.kubectl("apply", "-f", "-", input=access)
        objects = [
            git_repository(self.namespace, repo_url, fetch_interval or interval),
            kustomization(self.namespace, interval),
        ]
        self.cluster.kubectl("apply", "-f", "-", input=dump(objects))

    def start(
        self, secret: str, log: Callable[[str], None], controllers: bool = True
    ) -> dict[str, int]:
        """Start what is not running (the receiver alone where Flux runs in the cluster);
        the receiver's port, for the git server's hook."""
        folder = self.root / "flux" / self.cluster.name
        binaries = provision.binaries(self.tools, tools=provision.FLUX_TOOLS)
        ports = self.ports() or {"receiver": {"webhook": free_port()}}
        if controllers and "source-controller" not in ports:
            metrics, health, storage, metrics_k, health_k = free_ports(5)
            ports["source-controller"] = {"metrics": metrics, "health": health, "storage": storage}
            ports["kustomize-controller"] = {"metrics": metrics_k, "health": health_k}
        for part, named in ports.items():
            self.service(part).record_ports(named)
        credentials = {
            account: service_account_kubeconfig(
                self.cluster,
                self.namespace,
                account,
                folder / f"{account}.kubeconfig",
                TOKEN_LIFETIME,
            )
            for account in (*ACCOUNTS.values(), RECEIVER)
            if controllers or account == RECEIVER
        }
        for name in CONTROLLER_NAMES if controllers else ():
            service = self.service(name)
            if service.pid():
                continue
            log(f"flux {self.cluster.name}: starting {name}")
            storage = folder / "storage"
            storage.mkdir(parents=True, exist_ok=True)
            argv = [binaries[name], *controller_args(name, ports[name], storage)]
            health = ports[name]["health"]
            env = {
                **os.environ,
                "KUBECONFIG": str(credentials[ACCOUNTS[name]].kubeconfig),
                "RUNTIME_NAMESPACE": self.namespace,
            }
            service.start(argv, ready=lambda p=health: healthy(p), env=env, timeout=60)
        receiver = self.service("receiver")
        webhook = ports["receiver"]["webhook"]
        if not receiver.pid():
            view = credentials[RECEIVER]
            argv = [
                *python_m("fluxreceiver"), "--kubeconfig", view.kubeconfig,
                "--context", view.context, "--namespace", self.namespace, "--port", str(webhook),
            ]  # fmt: skip
            receiver.start(
                argv,
                ready=lambda: listening(webhook),
                env={**os.environ, SECRET_VARIABLE: secret},
            )
        return {"webhook": webhook, "metrics": ports["kustomize-controller"]["metrics"]}

    def stop(self) -> list[str]:
        """Stop the three services and wait until none of their ports answers; what is left."""
        for part in self.parts:
            self.service(part).stop()
        ports = [p for group in self.ports().values() for p in group.values()]
        if not wait_closed(ports, timeout=10):
            return [f"a Flux port of {self.cluster.name} still answers ({ports})"]
        # The next start takes fresh ports: these may be someone else's by then.
        for part in self.parts:
            self.service(part).record_ports({})
        return []

    def uninstall(self, controllers_stopped: bool) -> None:
        """Remove the two Flux objects and leave the app as it runs: prune is turned off first
        (Flux's own way to delete a Kustomization without its objects). Where the lab stopped
        the controllers, their finalizers are taken off too, since nothing is left to run
        them: a controller that came back to a Kustomization being deleted with prune on
        would delete everything it had applied."""
        for kind, name in (
            ("kustomizations.kustomize.toolkit.fluxcd.io", KUSTOMIZATION),
            ("gitrepositories.source.toolkit.fluxcd.io", SOURCE),
        ):
            target = f"{kind}/{name}"
            if not self.cluster.kubectl(
                "get", "-n", self.namespace, "--ignore-not-found", "-o", "name", target
            ).strip():
                continue
            patch: dict = {"metadata": {"finalizers": None}} if controllers_stopped else {}
            if name == KUSTOMIZATION:
                patch["spec"] = {"prune": False}
            if patch:
                self.cluster.kubectl(
                    "patch", "-n", self.namespace, target, "--type=merge",
                    "--patch", json.dumps(patch),
                )  # fmt: skip
            self.cluster.kubectl(
                "delete", "-n", self.namespace, "--ignore-not-found", "--timeout=60s", target
            )


def wait_applied(
    api: Client, namespace: str, commit: str, timeout: float = 120
) -> tuple[FluxStatus, float]:
    """Wait until Flux reports `commit` applied; its status and how long it took."""
    started = time.perf_counter()
    seen: list[FluxStatus] = []

    def applied() -> FluxStatus | None:
        seen[:] = [read_status(api, namespace)]
        return seen[0] if seen[0].last_applied == commit and seen[0].ready == "True" else None

    status = until(
        applied,
        timeout=timeout,
        every=0.1,
        message=lambda: (
            f"Flux did not apply {commit[:12]} within {timeout:.0f} s"
            f" (Ready={seen[0].ready} {seen[0].reason}: {seen[0].message})"
        ),
        fix="`python -m demo agent status` shows what it reports; the controllers' logs"
        " are in the lab state, services/flux-*",
        error=FluxError,
    )
    return status, time.perf_counter() - started


def released_install_args() -> list[list[str]]:
    """kubectl's arguments that install Flux on a reader's kind cluster from its released
    manifests (pinned), then wait for the two controllers the lab uses."""
    wait = ["-n", FLUX_NAMESPACE, "rollout", "status", "--timeout=180s"]
    return [
        ["apply", "--server-side", "-f", versions.FLUX_INSTALL_URL],
        [*wait, "deployment/source-controller"],
        [*wait, "deployment/kustomize-controller"],
    ]


def install_released(cluster: Cluster, log: Callable[[str], None]) -> None:
    """Flux's own install on a kind cluster; a clear error where its images cannot be had."""
    log(f"flux {cluster.name}: installing {versions.FLUX_NAME} from its released manifests")
    apply, *waits = released_install_args()
    _install_step(
        cluster, apply, 120,
        f"could not fetch Flux's released manifests ({versions.FLUX_INSTALL_URL})",
        "this needs internet access to github.com; without it use PROVIDER=kwok, where the lab"
        " runs Flux's controllers built from their Go modules",
    )  # fmt: skip
    for wait in waits:
        _install_step(
            cluster, wait, 200,
            f"Flux's controllers did not start in {cluster.name}",
            "their images come from ghcr.io: check `kubectl -n flux-system get pods`"
            " (ImagePullBackOff means they cannot be pulled here; use PROVIDER=kwok)",
        )  # fmt: skip


def _install_step(cluster: Cluster, args: list[str], timeout: float, problem: str, fix: str):
    """One kubectl step of the install; a FluxError saying `problem` and `fix` if it fails."""
    try:
        cluster.kubectl(*args, timeout=timeout)
    except LabError as error:
        raise FluxError(f"{problem}: {error.message}", fix) from error
