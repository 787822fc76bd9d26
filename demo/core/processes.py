"""Processes and ports on this machine: when a process has really ended, when a port is free.

Shared by the lab's services and its cluster providers, which both start processes that must
be waited on until they are truly gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil

from demo.core.paths import write_atomic


def free_port() -> int:
    """A port free on loopback right now (the service binds it a moment later)."""
    return free_ports(1)[0]


_PORTS = threading.Lock()
_GIVEN: set[int] = set()  # ports this process handed out: never handed out twice

# Ports handed out lately by any process on this machine, for as long as their service may take
# to bind them: two labs (a reader's and a test's, or a test run's parallel workers) probing at
# the same moment were otherwise given the same port. A JSON ledger under an flock: fcntl
# rather than the filelock package, since core stays on the standard library and psutil.
# In /tmp itself, not `tempfile.gettempdir()`: a process given a TMPDIR of its own (a test's
# benchmark run) must still find the one ledger.
LEDGER = Path("/tmp") / f"tellit-ports-{os.getuid()}.json"
HELD = 300.0  # seconds


@contextlib.contextmanager
def _ledger() -> Iterator[dict[int, float]]:
    """The ports handed out machine-wide within `HELD` seconds (port: when), held under the
    ledger's lock; what the body adds is written back."""
    with open(LEDGER.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                recorded = json.loads(LEDGER.read_text())
                taken = {int(port): float(when) for port, when in recorded.items()}
            except (OSError, ValueError, AttributeError):
                taken = {}  # none yet, or damaged: the probes below still see bound ports
            now = time.time()
            taken = {port: when for port, when in taken.items() if now - when < HELD}
            yield taken
            write_atomic(LEDGER, json.dumps(taken))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def free_ports(count: int) -> list[int]:
    """`count` ports free on loopback right now, none given before by this process nor lately
    by another. The system hands a port out again once its probe is closed, and two services
    started at once were given the same one: so probes are held together and given ports
    remembered, here and in the machine's ledger."""
    with _PORTS, _ledger() as taken, contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            probe = stack.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if port not in _GIVEN and port not in taken:
                ports.append(port)
        _GIVEN.update(ports)
        taken.update(dict.fromkeys(ports, time.time()))
        return ports


def finished(process: psutil.Process) -> bool:
    """Whether a process has really ended.

    A zombie counts as ended only once all its threads have: a process whose main thread has
    exited shows as a zombie while its other threads still hold its sockets open. Zombies are
    common here, since not every init reaps the orphans it inherits.
    """
    try:
        if not process.is_running():
            return True
        if process.status() != psutil.STATUS_ZOMBIE:
            return False
        status = Path(f"/proc/{process.pid}/status").read_text()
    except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
        return True
    except OSError:
        return True  # no /proc (macOS): a zombie there has released everything
    threads = next(
        (line.split()[1] for line in status.splitlines() if line.startswith("Threads:")), "1"
    )
    return int(threads) <= 1


def wait_finished(processes: Sequence[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has finished; those still running after `timeout`."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if not finished(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if not finished(p)]
    return alive


def wait_closed(ports: Sequence[int], timeout: float = 10) -> bool:
    """Wait until nothing listens on `ports` any more; whether they all closed in time."""
    deadline = time.monotonic() + timeout
    while any(listening(port) for port in ports):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def runs_from(process: psutil.Process, folder: Path) -> bool:
    """Whether a live process was started from `folder` (its command line or directory)."""
    prefix = str(folder) + os.sep
    with contextlib.suppress(psutil.Error):
        if finished(process):
            return False
        if any(part.startswith(prefix) for part in process.cmdline()):
            return True
        return (process.cwd() + os.sep).startswith(prefix)
    return False
