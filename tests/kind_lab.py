"""The kind lab of the `kind` tests, started in the background while the tests that need no
lab run: three kind clusters take about 40 s to come up, and most of the rest of `make demo`
is waiting, so overlapping it with the site's tests keeps `make test` short.

Order of a session (`conftest.pytest_collection_modifyitems`): the tests that touch no lab
first (the site, the engine, pure lab units), then the `kind` tests, which wait for this lab,
check it and take it down, then the lab tests (kwok, the registry, the git server), whose
teardown removes whatever the lab labelled. So a kind lab never runs beside another lab.

Once `make demo` is done, the lab's node containers are paused (`docker pause`) until its
tests need them: three idle clusters would otherwise take about a third of this machine's two
cores from the tests running meanwhile. Resuming waits until every cluster is Ready again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import ROOT
from lab_support import demo_env

from demo import nodeimage

# Host-wide settings a kind node could change: the ones kubelet writes, and systemd's defaults.
HOST_SYSCTLS = [
    *nodeimage.KUBELET_SYSCTLS,
    "kernel/pid_max",
    "kernel/sysrq",
    "fs/protected_regular",
    "fs/inotify/max_user_watches",
]


def volumes() -> set[str]:
    """Docker's volumes: kind gives each node an anonymous one for /var."""
    listed = subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True, text=True)
    return set(listed.stdout.split())


def read_sysctls() -> dict[str, str]:
    values = {}
    for name in HOST_SYSCTLS:
        path = Path("/proc/sys") / name
        if path.exists():
            values[name] = path.read_text().strip()
    return values


def lab_nodes() -> list[str]:
    """The running node containers of the lab's kind clusters."""
    listed = subprocess.run(
        ["docker", "ps", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
    )
    return [name for name in listed.stdout.split() if name.startswith("tellit-")]


def set_paused(nodes: list[str], paused: bool) -> None:
    if nodes:
        verb = "pause" if paused else "unpause"
        subprocess.run(["docker", verb, *nodes], capture_output=True, timeout=120)


@dataclass
class KindLab:
    """`make demo PROVIDER=kind` running (or done) in a lab state of its own."""

    state: Path
    before: dict[str, str]
    process: subprocess.Popen
    output: Path
    volumes_before: set[str]
    paused: list[str] = field(default_factory=list)
    watcher: threading.Thread | None = None

    @classmethod
    def start(cls) -> KindLab:
        folder = Path(tempfile.mkdtemp(prefix="tellit-kind-test-"))
        state, output = folder / "lab", folder / "make-demo.log"
        before, volumes_before = read_sysctls(), volumes()
        with output.open("w") as stream:
            process = subprocess.Popen(
                ["make", "--no-print-directory", "demo", "PROVIDER=kind", "CLUSTERS=3"],
                cwd=ROOT,
                stdout=stream,
                stderr=subprocess.STDOUT,
                text=True,
                env=demo_env(state),
                start_new_session=True,
            )
        lab = cls(state, before, process, output, volumes_before)
        lab.watcher = threading.Thread(target=lab.pause_when_done, daemon=True)
        lab.watcher.start()
        return lab

    def pause_when_done(self) -> None:
        if self.process.wait() == 0:
            self.paused = lab_nodes()
            set_paused(self.paused, True)

    def resume(self, timeout: float = 180) -> None:
        """Unpause the nodes and wait until every cluster is Ready twice, a node-monitor period
        apart: on waking, the node controller may mark a node NotReady before its kubelet's
        next heartbeat puts it back."""
        from demo.clusters.kind import KindProvider

        if not self.paused:
            return
        set_paused(self.paused, False)
        self.paused = []
        owner = KindProvider(root=self.state / "kind")
        clusters = owner.list()
        deadline = time.monotonic() + timeout
        steady = 0
        while steady < 2 and time.monotonic() < deadline:
            time.sleep(6)
            ready = all(owner.health(cluster).ready for cluster in clusters)
            steady = steady + 1 if ready else 0

    def wait(self, timeout: float = 1800) -> tuple[int, str]:
        """make demo's exit status and everything it printed."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            code = -1
        if self.watcher is not None:
            self.watcher.join(timeout=120)
        self.resume()
        return code, self.output.read_text()

    def stop(self) -> None:
        """End make demo and what it started (its own process group); nodes unpaused."""
        if self.watcher is not None:
            self.watcher.join(timeout=0)
        set_paused(self.paused or lab_nodes(), False)
        self.paused = []
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
