"""Background services the lab starts (registry, git server): a pid file and a log each.

Kept in one folder under the lab's state, so `make demo-down` finds every process the lab
started, and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from demo.core.errors import LabError
from demo.core.paths import write_atomic
from demo.core.processes import finished, free_port, listening, wait_closed
from demo.core.run import start
from demo.core.waits import until


class ServiceError(LabError):
    """A lab service would not start or stop."""


@dataclass(frozen=True)
class Service:
    name: str
    root: Path

    @classmethod
    def named(cls, name: str, root: Path) -> Service:
        """The service `name` whose files live under `root` (a lab state's services folder)."""
        return cls(name, root / name)

    @property
    def pid_file(self) -> Path:
        return self.root / "pid"

    @property
    def log_file(self) -> Path:
        return self.root / "log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def record_ports(self, ports: dict[str, int]) -> None:
        """The ports a service listens on by name (an agent's metrics and webhook), kept beside
        its pid for whoever reaches it later (`status`, the git hook's subscribers); {} forgets
        them."""
        path = self.root / "ports.json"
        if ports:
            write_atomic(path, json.dumps(ports), mode=0o644)
        else:
            path.unlink(missing_ok=True)

    def named_ports(self) -> dict[str, int]:
        """What `record_ports` kept; {} when nothing was."""
        path = self.root / "ports.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def port(self) -> int | None:
        """The port the running service listens on, or None when it is not running."""
        if self.pid() is None:
            return None
        return self.recorded_port()

    def recorded_port(self) -> int | None:
        """The port this service was given, running or not: it keeps it for its lab state."""
        try:
            return int(self.port_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def stable_port(self) -> int:
        """The port this service keeps for its lab state (a new one the first time), so that
        addresses stored while it ran stay valid after a restart."""
        port = self.recorded_port() or free_port()
        if listening(port):
            raise ServiceError(
                f"the {self.name} port {port} of this lab state is taken by another program",
                f"stop what listens there (ss -ltnp 'sport = :{port}'), or"
                " `python -m demo down` to start a new lab state on a new port",
            )
        return port

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
        process = start(argv, log=self.log_file, env=env)
        started = psutil.Process(process.pid).create_time()
        self.pid_file.write_text(f"{process.pid} {started}")

        def answers() -> bool:
            if process.poll() is not None:  # waiting will not help
                self.pid_file.unlink(missing_ok=True)
                raise ServiceError(
                    f"{self.name} exited at start (code {process.returncode}); its log:\n"
                    + self.log_file.read_text()[-2000:],
                    f"read {self.log_file}; `python -m demo doctor` checks the machine",
                )
            return ready()

        try:
            until(
                answers,
                timeout=timeout,
                every=0.1,
                message=f"{self.name} did not answer within {timeout:.0f} s",
                fix=f"read its log, {self.log_file}, then run the command again",
                error=ServiceError,
            )
        except ServiceError:
            self.stop()  # nothing of a failed start is left running
            raise
        return process.pid

    def stop(self, timeout: float = 10) -> None:
        """Stop the service and its children, and return only once its port is closed.

        A process whose main thread has exited shows as a zombie while its other threads are
        still closing its sockets, so the pid alone is not enough: the port is waited on too.
        """
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        port = self.recorded_port()
        if port is not None and not wait_closed([port], timeout):
            raise ServiceError(
                f"{self.name} was stopped but port {port} still answers",
                f"see what listens there: ss -ltnp 'sport = :{port}'",
            )


def _alive(pid: int) -> bool:
    """Whether `pid` still runs (see `finished`); our own exited child is reaped on the way."""
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return False
    if not finished(process):
        return True
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return False
