"""Running the lab's command-line tools: one place that says which command failed and why."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path


class CommandError(RuntimeError):
    """A tool the lab drives failed; the message has the command and what it printed."""


def run(
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> str:
    """Run a command and return its standard output; CommandError with its output if it fails."""
    args = [str(part) for part in command]
    try:
        result = subprocess.run(
            args, env=env, input=input, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except FileNotFoundError:
        raise CommandError(
            f"`{args[0]}` is not installed (needed for: {shlex.join(args)})"
        ) from None
    except subprocess.TimeoutExpired:
        raise CommandError(f"`{shlex.join(args)}` did not finish in {timeout:.0f} s") from None
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip())[-3000:]
        raise CommandError(f"`{shlex.join(args)}` failed (exit {result.returncode}):\n{output}")
    return result.stdout
