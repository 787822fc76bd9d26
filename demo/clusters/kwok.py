"""kwok provider: real control planes as local processes, nodes simulated by kwok.

Used where no container image can be pulled (our CI) and by readers without Docker. The
kube-apiserver, etcd, controller-manager and scheduler are the real binaries, built by
`demo.provision`; only kubelets are simulated, so pods are scheduled and reported Running.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psutil

from .. import provision, versions
from ..paths import state_dir
from ..run import CommandError, run
from ..services import free_port
from .base import LAB_PREFIX, Cluster, ClusterError, lab_name

# Ports each cluster needs. kwokctl picks free ports itself, but two kwokctl processes started
# at once pick the same ones, so the lab hands out the ports when it creates in parallel.
PORT_OPTIONS = (
    "kubeApiserverPort",
    "etcdPort",
    "etcdPeerPort",
    "kubeControllerManagerPort",
    "kubeSchedulerPort",
    "kwokControllerPort",
)
_ports_lock = threading.Lock()
_handed_out: set[int] = set()


def kwokctl_config(ports: dict[str, int]) -> str:
    """kwokctl's configuration: every component on loopback only (its default is 0.0.0.0)."""
    lines = [
        "kind: KwokctlConfiguration",
        "apiVersion: config.kwok.x-k8s.io/v1alpha1",
        "options:",
        "  bindAddress: 127.0.0.1",
        "  runtime: binary",
    ]
    lines += [f"  {option}: {port}" for option, port in ports.items()]
    return "\n".join(lines) + "\n"


def allocate_ports() -> dict[str, int]:
    """Distinct free loopback ports, never two alike within this process."""
    with _ports_lock:
        ports = {}
        for option in PORT_OPTIONS:
            port = free_port()
            while port in _handed_out:
                port = free_port()
            _handed_out.add(port)
            ports[option] = port
        return ports


class KwokProvider:
    name = "kwok"

    def __init__(self, nodes: int = 2, root: Path | None = None) -> None:
        self.nodes = nodes
        self.root = root or state_dir() / "kwok"
        self.binaries = provision.binaries()

    # The command lines are pure functions of the settings, so they are unit-tested.
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KWOK_WORKDIR": str(self.root),
            "KWOK_KUBECTL_BINARY": str(self.binaries["kubectl"]),
            "KWOK_KUBE_VERSION": versions.KUBERNETES,
        }

    def config_path(self, name: str) -> Path:
        """This cluster's kwokctl configuration, with ports of its own, written once."""
        path = self.root / "configs" / f"{lab_name(name)}.yaml"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(kwokctl_config(allocate_ports()))
        return path

    def kubeconfig(self, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{lab_name(name)}.yaml"

    def create_command(self, name: str) -> list[str]:
        b = self.binaries
        return [
            str(b["kwokctl"]),
            "--config",
            str(self.config_path(name)),
            "create",
            "cluster",
            "--name",
            lab_name(name),
            "--runtime",
            "binary",
            "--kube-apiserver-binary",
            str(b["kube-apiserver"]),
            "--kube-controller-manager-binary",
            str(b["kube-controller-manager"]),
            "--kube-scheduler-binary",
            str(b["kube-scheduler"]),
            "--kwok-controller-binary",
            str(b["kwok"]),
            "--etcd-binary",
            str(b["etcd"]),
            "--kubeconfig",
            str(self.kubeconfig(name)),
            "--wait",
            "120s",
        ]

    def _existing(self) -> set[str]:
        if not (self.root / "clusters").is_dir():
            return set()
        output = run([self.binaries["kwokctl"], "get", "clusters"], env=self.env())
        return {line.strip() for line in output.splitlines() if line.strip()}

    def _cluster(self, name: str) -> Cluster:
        return Cluster(name, self.name, self.kubeconfig(name), f"kwok-{lab_name(name)}")

    def create(self, name: str) -> Cluster:
        missing = provision.missing()
        if missing:
            raise ClusterError(
                f"the kwok provider needs {', '.join(t.name for t in missing)}:"
                " run `make provision`"
            )
        full = lab_name(name)
        self.kubeconfig(name).parent.mkdir(parents=True, exist_ok=True)
        if full not in self._existing():
            try:
                run(self.create_command(name), env=self.env(), timeout=300)
            except CommandError as error:
                raise ClusterError(f"could not create kwok cluster {name}: {error}") from None
        cluster = self._cluster(name)
        self._ensure_nodes(cluster)
        return cluster

    def _ensure_nodes(self, cluster: Cluster) -> None:
        """Add simulated nodes so that pods schedule, and wait until they are Ready."""
        kwokctl = self.binaries["kwokctl"]
        run(
            [
                kwokctl,
                "scale",
                "node",
                "--replicas",
                str(self.nodes),
                "--name",
                lab_name(cluster.name),
            ],
            env=self.env(),
            timeout=120,
        )
        run(
            [
                self.binaries["kubectl"],
                "--kubeconfig",
                cluster.kubeconfig,
                "wait",
                "--for=condition=Ready",
                "node",
                "--all",
                "--timeout=120s",
            ],
            timeout=150,
        )

    def processes(self, name: str) -> list[psutil.Process]:
        """The cluster's component processes (kwokctl runs them from the cluster's folder)."""
        folder = str(self.root / "clusters" / lab_name(name)) + os.sep
        found = []
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if any(part.startswith(folder) for part in cmdline):
                found.append(process)
        return found

    def delete(self, name: str) -> None:
        """Delete the cluster and wait until its processes are gone (kwokctl does not wait)."""
        full = lab_name(name)
        if full in self._existing():
            run(
                [
                    self.binaries["kwokctl"],
                    "delete",
                    "cluster",
                    "--name",
                    full,
                    "--kubeconfig",
                    str(self.kubeconfig(name)),
                ],
                env=self.env(),
                timeout=180,
            )
        _, alive = psutil.wait_procs(self.processes(name), timeout=30)
        for process in alive:  # still there after 30 s: stop it rather than leak it
            process.kill()
        psutil.wait_procs(alive, timeout=10)
        self.kubeconfig(name).unlink(missing_ok=True)
        (self.root / "configs" / f"{full}.yaml").unlink(missing_ok=True)

    def list(self) -> list[Cluster]:
        return [
            self._cluster(full.removeprefix(LAB_PREFIX))
            for full in sorted(self._existing())
            if full.startswith(LAB_PREFIX)
        ]
