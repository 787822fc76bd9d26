"""Running the lab's command-line tools: one place that says which command failed and why.

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
from pathlib import Path

import psutil

from .errors import LabError


class CommandError(LabError):
    """A tool the lab drives failed; the message has the command and what it printed."""


def run(
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    group_file: Path | None = None,
) -> str:
    """Run a command and return its standard output; CommandError with its output if it fails.

    `group_file`, when given, holds the command's process group while it runs.
    """
    args = [str(part) for part in command]
    try:
        process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise CommandError(
            f"`{args[0]}` is not installed (needed for: {shlex.join(args)})",
            "run `make provision`, or install it and put it on PATH",
        ) from error
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
    if process.returncode != 0:
        output = (stderr.strip() or stdout.strip())[-3000:]
        raise CommandError(f"`{shlex.join(args)}` failed (exit {process.returncode}):\n{output}")
    return stdout


def record_group(path: Path, pid: int) -> None:
    """Write `pid` (a group leader) and its start time, so a reused pid is never taken for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(psutil.NoSuchProcess):
        path.write_text(f"{pid} {psutil.Process(pid).create_time()}")


def end_recorded_group(path: Path) -> bool:
    """End the process group a killed run recorded in `path`; whether there was one to end."""
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
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def end_group(pgid: int, grace: float = 5) -> None:
    """SIGTERM the group, wait, then SIGKILL whatever is left of it."""
    members = group_members(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    _, alive = psutil.wait_procs(members, timeout=grace)
    if alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=grace)


def git_env(name: str, email: str) -> dict[str, str]:
    """The environment for git commands that commit as `name`: never a password prompt."""
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
