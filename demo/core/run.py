"""Running the lab's command-line tools: one place that says which command failed and why.

psutil is imported only where a process group is recorded or ended, so that the offline loader,
which runs before the virtual environment exists, can run its commands here too.

Every command runs in a process group of its own, so that nothing it starts outlives it by
accident: on a timeout or an interrupt the whole group is ended. A long command that may be
killed together with the lab (a cluster being created) also records its group in a file, so
that `python -m demo down` can end what a killed run left behind.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypedDict, Unpack

from demo.core.errors import LabError

if TYPE_CHECKING:
    import psutil


class CommandError(LabError):
    """A tool the lab drives failed; the message has the command and what it printed."""


@dataclass(frozen=True)
class Finished:
    """A command that ran to its end, whatever its exit code: for callers to whom a failure is
    an answer (is this image here? was that push refused?)."""

    args: list[str]
    returncode: int
    stdout: str | bytes
    stderr: str | bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self, limit: int = 3000) -> str:
        """What the command said last, its errors first: for a message."""
        said = self.stderr.strip() or self.stdout.strip()
        text = said.decode(errors="replace") if isinstance(said, bytes) else said
        return text[-limit:]


def not_installed(args: list[str]) -> CommandError:
    """The error for a command whose program is not on PATH."""
    return CommandError(
        f"`{args[0]}` is not installed (needed for: {shlex.join(args)})",
        "run `make provision`, or install it and put it on PATH",
    )


def attempt(
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    input: str | bytes | None = None,
    stdin: IO | None = None,
    cwd: Path | str | None = None,
    timeout: float = 600,
    group_file: Path | None = None,
) -> Finished:
    """Run a command to its end and say how it ended; CommandError only when it cannot start
    or does not finish in `timeout` seconds. Bytes in `input` (or a file as `stdin`) mean
    bytes out. `group_file`, when given, holds the command's process group while it runs."""
    args = [str(part) for part in command]
    text = not isinstance(input, bytes) and stdin is None
    if stdin is None:
        stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=text,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise not_installed(args) from error
    if group_file is not None:
        record_group(group_file, process.pid)
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        end_group(process.pid)
        process.communicate()
        raise CommandError(
            f"`{shlex.join(args)}` did not finish in {timeout:.0f} s",
            "run it again; if it hangs again, `python -m demo doctor` checks the machine",
        ) from error
    except BaseException:  # an interrupt: end what the command started, then let it through
        end_group(process.pid)
        raise
    finally:
        if group_file is not None:
            group_file.unlink(missing_ok=True)
    return Finished(args, process.returncode, stdout, stderr)


class Options(TypedDict, total=False):
    """`attempt`'s keyword arguments, which `run` passes on as they are."""

    env: dict[str, str] | None
    input: str | bytes | None
    stdin: IO | None
    cwd: Path | str | None
    timeout: float
    group_file: Path | None


def run(command: Sequence[str | Path], **options: Unpack[Options]) -> str:
    """Run a command and return its standard output; CommandError with its output if it fails.

    The options are `attempt`'s (`group_file`, when given, holds the command's process group
    while it runs).
    """
    done = attempt(command, **options)
    if not done.ok:
        raise CommandError(
            f"`{shlex.join(done.args)}` failed (exit {done.returncode}):\n{done.output()}"
        )
    return done.stdout


def start(
    command: Sequence[str | Path],
    *,
    log: Path | None = None,
    terminal: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.Popen:
    """Start a process that outlives this call, in a session of its own; the caller watches it.

    Its output goes to `log` (appended: a service, the pipeline a hook starts), or to the
    pseudo-terminal `terminal` (which is its input too: a recording), or else to a text pipe
    the caller reads (a port-forward saying which port it took), errors merged in.
    """
    args = [str(part) for part in command]
    streams: dict = {"stdin": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    if terminal is not None:
        streams = {"stdin": terminal, "stdout": terminal, "stderr": terminal}
    elif log is None:
        streams |= {"stdout": subprocess.PIPE, "text": True}
    try:
        with contextlib.ExitStack() as stack:
            if log is not None and terminal is None:
                log.parent.mkdir(parents=True, exist_ok=True)
                streams["stdout"] = stack.enter_context(log.open("ab"))
            return subprocess.Popen(
                args, env=env, cwd=cwd, start_new_session=True, close_fds=True, **streams
            )
    except FileNotFoundError as error:
        raise not_installed(args) from error


def piped(
    producer: Sequence[str | Path], consumer: Sequence[str | Path], *, timeout: float = 600
) -> str:
    """`producer | consumer`, without a shell and without holding the stream in memory (a root
    filesystem into `docker import`); CommandError naming whichever of the two failed."""
    args = [str(part) for part in producer]
    try:
        source = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
    except FileNotFoundError as error:
        raise not_installed(args) from error
    try:
        out = run(consumer, stdin=source.stdout, timeout=timeout)
    finally:
        source.stdout.close()
        source.wait(timeout=timeout)
    if source.returncode != 0:
        said = source.stderr.read().decode(errors="replace")[-3000:]
        raise CommandError(f"`{shlex.join(args)}` failed (exit {source.returncode}):\n{said}")
    return out.decode(errors="replace") if isinstance(out, bytes) else out


def record_group(path: Path, pid: int) -> None:
    """Write `pid` (a group leader) and its start time, so a reused pid is never taken for it."""
    import psutil

    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(psutil.NoSuchProcess):
        path.write_text(f"{pid} {psutil.Process(pid).create_time()}")


def end_recorded_group(path: Path) -> bool:
    """End the process group a killed run recorded in `path`; whether there was one to end."""
    import psutil

    try:
        pid_text, started = path.read_text().split()
        pid = int(pid_text)
    except (FileNotFoundError, ValueError):
        path.unlink(missing_ok=True)
        return False
    members = group_members(pid)
    leader_is_ours = any(
        p.pid == pid and abs(p.create_time() - float(started)) < 0.01 for p in members
    )
    ended = bool(members) and (leader_is_ours or not psutil.pid_exists(pid))
    if ended:
        end_group(pid)
    path.unlink(missing_ok=True)
    return ended


def group_members(pgid: int) -> list[psutil.Process]:
    """The live processes of process group `pgid`."""
    import psutil

    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def end_group(pgid: int, grace: float = 5) -> None:
    """SIGTERM the group, wait, then SIGKILL whatever is left of it."""
    try:
        import psutil
    except ImportError:  # the offline loader runs before the virtual environment exists
        _end_group_blindly(pgid, grace)
        return
    members = group_members(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    _, alive = psutil.wait_procs(members, timeout=grace)
    if alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=grace)


def _end_group_blindly(pgid: int, grace: float) -> None:
    """end_group without psutil: SIGTERM, the grace period, then SIGKILL (a no-op if gone)."""
    import time

    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        time.sleep(grace if sig == signal.SIGTERM else 0)
