"""Background services the lab starts (registry, git server): a pid file and a log each.

Kept in one folder under the lab's state, so `make demo-down` finds every process the lab
started, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from .paths import state_dir


def free_port() -> int:
    """A port free on loopback right now (the service binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Service:
    name: str
    root: Path

    @classmethod
    def named(cls, name: str, root: Path | None = None) -> Service:
        return cls(name, (root or state_dir() / "services") / name)

    @property
    def pid_file(self) -> Path:
        return self.root / "pid"

    @property
    def log_file(self) -> Path:
        return self.root / "log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def port(self) -> int | None:
        """The port the running service listens on, or None when it is not running."""
        if self.pid() is None or not self.port_file.is_file():
            return None
        return int(self.port_file.read_text())

    def pid(self) -> int | None:
        """The pid of the running service, or None (a stale pid file is removed).

        The file holds the pid and the process's start time, so a pid the system has since
        given to another program is never taken for ours (and never signalled).
        """
        try:
            pid_text, started = self.pid_file.read_text().split()
            pid = int(pid_text)
            same = abs(psutil.Process(pid).create_time() - float(started)) < 0.01
        except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
            same = False
        if not same or not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def start(
        self,
        argv: Sequence[str | Path],
        ready: Callable[[], bool],
        env: dict[str, str] | None = None,
        timeout: float = 30,
        port: int | None = None,
    ) -> int:
        """Start the service unless it runs already; wait until `ready()` says it answers.

        `port`, when given, is recorded so that `port()` finds the running service later.
        """
        running = self.pid()
        if running:
            return running
        self.root.mkdir(parents=True, exist_ok=True)
        if port is not None:
            self.port_file.write_text(str(port))
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [str(a) for a in argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        started = psutil.Process(process.pid).create_time()
        self.pid_file.write_text(f"{process.pid} {started}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise RuntimeError(
                    f"{self.name} exited at start (code {process.returncode}); its log:\n"
                    + self.log_file.read_text()[-2000:]
                )
            if ready():
                return process.pid
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer within {timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 10) -> None:
        """Stop the service and its children (it leads its own process group)."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return True
    except psutil.NoSuchProcess:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
    return False


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
