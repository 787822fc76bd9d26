"""The kind lab of the `kind` tests, started in the background while the tests that need no
lab run: three kind clusters take about 40 s to come up, and most of the rest of `make demo`
is waiting, so overlapping it with the site's tests keeps `make test` short.

Order of a session (`pytest_collection_modifyitems` in tests/conftest.py): the tests that
touch no lab first (the site, the engine, pure lab units), then the `kind` tests, which wait
for this lab, check it and take it down, then the lab tests (kwok, the registry, the git
server), whose teardown removes whatever the lab labelled. So a kind lab never runs beside
another lab.

In a parallel run (`make test`: pytest-xdist) the kind tests keep to one worker, which starts
this lab with its first kind test while the other workers run the rest, kwok labs included:
each lab only sees and removes what carries its own state's label. The one test that removes
the lab's images (the offline bundle's round trip, marked `alone`) runs after, by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.clusters.kind import nodeimage
from support.lab import demo_env
from support.paths import ROOT

# The session's kind lab, kept in the config's stash (conftest starts and stops it).
KIND_LAB = pytest.StashKey[object]()

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


@dataclass
class KindLab:
    """`make demo PROVIDER=kind` running (or done) in a lab state of its own."""

    state: Path
    before: dict[str, str]
    process: subprocess.Popen
    output: Path
    volumes_before: set[str]

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
        return cls(state, before, process, output, volumes_before)

    def wait(self, timeout: float = 1800) -> tuple[int, str]:
        """make demo's exit status and everything it printed."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            code = -1
        return code, self.output.read_text()

    def stop(self) -> None:
        """End make demo and what it started (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
