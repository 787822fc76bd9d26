"""kwok provider: real control planes as local processes, nodes simulated by kwok.

Used where no container image can be pulled (our CI) and by readers without Docker. The
kube-apiserver, etcd, controller-manager and scheduler are the real binaries, built by
`demo.toolchain.provision`; only kubelets are simulated, so pods are scheduled and reported Running.

kwokctl starts each component in a session of its own and does not wait for them to exit on
delete, so this provider keeps hold of the processes itself: it reads their pid files before a
delete and waits on those very processes, then on their ports. A `create` runs kwokctl in a
process group recorded in the lab state, so a killed run can be ended by `cleanup`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml

from demo.clusters.base import (
    Cluster,
    ClusterError,
    Health,
    HostProvider,
    ProviderInfo,
    api_health,
    default_names,
)
from demo.core import versions
from demo.core.checks import Check
from demo.core.context import LabContext
from demo.core.naming import lab_name, short_name
from demo.core.paths import write_atomic
from demo.core.processes import free_ports, runs_from, wait_closed, wait_finished
from demo.core.run import CommandError, end_recorded_group, run
from demo.core.waits import until
from demo.toolchain import provision

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
    """Distinct free loopback ports, never two alike within this process (`free_ports` keeps
    the one record of what this process handed out)."""
    return dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))


class KwokProvider(HostProvider):
    name = "kwok"
    # Simulated nodes: its pull agents run on the host (demo.delivery). Its control plane
    # stops and starts like a real one, which the outage experiments use.
    info = ProviderInfo(stops=True)

    def __init__(self, lab: LabContext, nodes: int = 2) -> None:
        self.nodes = nodes
        self.root = lab.state / self.name  # the lab state's kwok folder
        self.tools = lab.tools
        self.binaries = provision.binaries(self.tools)

    # The command lines are pure functions of the settings, so they are unit-tested.
    def env(self) -> dict[str, str]:
        # kwokctl runs the first kubectl on PATH before the one it is given: put ours first, so
        # it never drives the cluster with a kubectl of another version.
        kubectl_folder = str(self.binaries["kubectl"].parent)
        return {
            **os.environ,
            "PATH": os.pathsep.join([kubectl_folder, os.environ.get("PATH", "")]),
            "KWOK_WORKDIR": str(self.root),
            "KWOK_KUBECTL_BINARY": str(self.binaries["kubectl"]),
            "KWOK_KUBE_VERSION": versions.KUBERNETES,
        }

    def config_path(self, name: str) -> Path:
        """This cluster's kwokctl configuration, with ports of its own, written once."""
        path = self.root / "configs" / f"{lab_name(name)}.yaml"
        if not path.is_file():
            write_atomic(path, kwokctl_config(allocate_ports()))
        return path

    def ports(self, name: str) -> list[int]:
        """The ports this cluster's components listen on (from its configuration)."""
        path = self.root / "configs" / f"{lab_name(name)}.yaml"
        try:
            options = yaml.safe_load(path.read_text()).get("options", {})
        except (FileNotFoundError, AttributeError, yaml.YAMLError):
            return []
        return [int(options[o]) for o in PORT_OPTIONS if o in options]

    def kubeconfig(self, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{lab_name(name)}.yaml"

    def folder(self, name: str) -> Path:
        return self.root / "clusters" / lab_name(name)

    def group_file(self, name: str) -> Path:
        """Where a running `kwokctl create` records its process group."""
        return self.root / "running" / f"{lab_name(name)}.pgid"

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

    def _kwokctl(self, *args: str, name: str, timeout: float = 180, **options) -> str:
        command = [self.binaries["kwokctl"], *args, "--name", lab_name(name)]
        return run(command, env=self.env(), timeout=timeout, **options)

    def _existing(self) -> set[str]:
        """Full names of the clusters kwokctl knows in this state (its folders)."""
        folder = self.root / "clusters"
        return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()

    def _cluster(self, name: str) -> Cluster:
        return Cluster(
            name,
            self.name,
            self.kubeconfig(name),
            f"kwok-{lab_name(name)}",
            self.binaries["kubectl"],
        )

    def prepare(self, log: Callable[[str], None]) -> None:
        """Build the control-plane tools from Go modules unless they are cached."""
        provision.ensure(self.tools, log=log)
        self.binaries = provision.binaries(self.tools)

    def names(self, count: int) -> list[str]:
        return default_names(count)

    def available(self) -> list[Check]:
        """The tools built from Go modules, and Debian's registry (no registry image to pull)."""
        missing = provision.missing(self.tools)
        registry = shutil.which("docker-registry")
        return [
            Check(
                "kwok tools",
                not missing,
                "built" if not missing else f"missing {', '.join(t.name for t in missing)}",
                "run `make provision` (builds them from Go modules)",
            ),
            Check(
                "docker-registry",
                registry is not None,
                registry or "missing",
                "run `make provision` (Debian: apt-get install docker-registry)",
            ),
        ]

    def create(self, name: str) -> Cluster:
        """Create the cluster; an existing one that is broken is repaired, or reported."""
        missing = provision.missing(self.tools)
        if missing:
            raise ClusterError(
                f"the kwok provider needs {', '.join(t.name for t in missing)}",
                "run `make provision`",
            )
        full = lab_name(name)
        self.kubeconfig(name).parent.mkdir(parents=True, exist_ok=True)
        cluster = self._cluster(name)
        if full not in self._existing():
            try:
                run(
                    self.create_command(name),
                    env=self.env(),
                    timeout=300,
                    group_file=self.group_file(name),
                )
            except CommandError as error:
                raise ClusterError(
                    f"could not create kwok cluster {name}",
                    "see the error above; `python -m demo down` removes what was left",
                ) from error
        elif not self._answers(cluster):
            self._repair(name)
        self._ensure_nodes(cluster)
        health = self.health(cluster)
        if not health.ready:
            raise ClusterError(
                f"kwok cluster {name} is broken: {health.detail}",
                f"remove it with `python -m demo down` (or delete {self.folder(name)}), then"
                " run `python -m demo up` again",
            )
        return cluster

    def _answers(self, cluster: Cluster) -> bool:
        if not cluster.kubeconfig.is_file():
            return False
        try:
            cluster.kubectl("get", "--raw", "/readyz", timeout=15)
            return True
        except CommandError:
            return False

    def stop(self, name: str) -> None:
        """Take the cluster down, every component of it, as an outage would (its data stays);
        `start` brings it back."""
        self._kwokctl("stop", "cluster", name=name, timeout=60)

    def start(self, name: str) -> None:
        """Bring a stopped cluster back and wait until its API server answers."""
        self._repair(name)

    def _repair(self, name: str) -> None:
        """Restart the components (a stopped or killed one comes back) and rewrite the
        kubeconfig from kwokctl's own copy."""
        try:
            self._kwokctl("stop", "cluster", name=name, timeout=60)
            self._kwokctl("start", "cluster", "--timeout", "30s", name=name, timeout=60)
            kubeconfig = self._kwokctl("get", "kubeconfig", name=name, timeout=30)
        except CommandError as error:
            raise ClusterError(
                f"kwok cluster {name} is broken and could not be restarted",
                "remove it with `python -m demo down`, then run `python -m demo up` again",
            ) from error
        write_atomic(self.kubeconfig(name), kubeconfig)
        cluster = self._cluster(name)
        until(  # a restarted API server runs its start hooks first
            lambda: self._answers(cluster),
            f"kwok cluster {name}'s restarted API server to answer",
            60,
            fix="remove it with `python -m demo down`, then run `python -m demo up` again",
            error=ClusterError,
        )

    def _ensure_nodes(self, cluster: Cluster) -> None:
        """Add simulated nodes so that pods schedule, and wait until they are Ready."""
        self._kwokctl("scale", "node", "--replicas", str(self.nodes), name=cluster.name)
        # kubectl wait fails at once while nothing matches: first let the nodes appear.
        until(
            lambda: len(cluster.kubectl("get", "nodes", "-o", "name").split()) >= self.nodes,
            timeout=60,
            every=0.1,
            message=f"kwok cluster {cluster.name} made no nodes in 60 s",
            fix="`python -m demo down`, then `python -m demo up` again",
            error=ClusterError,
        )
        cluster.wait_condition("Ready", "nodes", timeout=120)

    def health(self, cluster: Cluster) -> Health:
        return api_health(cluster, self.nodes)

    def processes(self, name: str) -> list[psutil.Process]:
        """The cluster's component processes: from kwokctl's pid files, and any process that
        runs from the cluster's folder (a component whose pid file was not written yet)."""
        folder = self.folder(name)
        found: dict[int, psutil.Process] = {}
        for pid_file in (folder / "pids").glob("*.pid"):
            with contextlib.suppress(ValueError, OSError, psutil.Error):
                process = psutil.Process(int(pid_file.read_text().strip()))
                if runs_from(process, folder):
                    found[process.pid] = process
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if process.pid not in found and runs_from(process, folder):
                    found[process.pid] = process
        return list(found.values())

    def delete(self, name: str) -> None:
        """Delete the cluster; return once its processes have exited and its ports closed."""
        full = lab_name(name)
        end_recorded_group(self.group_file(name))
        processes = self.processes(name)  # held before kwokctl delete, then waited on
        ports = self.ports(name)
        if full in self._existing():
            # If kwokctl fails, the processes below are ended by hand and the folder removed.
            with contextlib.suppress(CommandError):
                self._kwokctl(
                    "delete", "cluster", "--kubeconfig", str(self.kubeconfig(name)), name=name
                )
        for process in wait_finished(processes, timeout=30):
            with contextlib.suppress(psutil.Error):
                process.kill()  # still there after 30 s: stop it rather than leak it
        still = wait_finished(processes, timeout=10)
        if still or not wait_closed(ports, timeout=10):
            raise ClusterError(
                f"kwok cluster {name} was deleted, but its processes or ports remain",
                "stop them by hand: " + ", ".join(str(p.pid) for p in still) + " "
                f"(ports {', '.join(map(str, ports))})",
            )
        shutil.rmtree(self.folder(name), ignore_errors=True)
        self.kubeconfig(name).unlink(missing_ok=True)
        (self.root / "configs" / f"{full}.yaml").unlink(missing_ok=True)

    def list(self) -> list[Cluster]:
        names = (short_name(full) for full in sorted(self._existing()))
        return [self._cluster(name) for name in names if name]

    def cleanup(self, log: Callable[[str], None]) -> list[str]:
        """End killed runs' kwokctl groups, delete every cluster; what is left."""
        for group in sorted((self.root / "running").glob("*.pgid")):
            if end_recorded_group(group):
                log(f"ended an unfinished `kwokctl create` ({group.stem})")
        left = []
        for cluster in self.list():
            log(f"deleting kwok cluster {cluster.name}")
            try:
                self.delete(cluster.name)
            except ClusterError as error:
                left.append(str(error))
        return left
