"""Writing files safely: whole or not at all, and never over anything but a regular file."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class NotAFile(ValueError):
    """The target of a write exists and is not a regular file (a folder, a device, a pipe)."""


def writable_target(path: Path) -> str | None:
    """Why `path` must not be written over, or None: only a regular file (or nothing) may be
    replaced. A rename over a device node or a folder's place would succeed, silently."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode) or (stat.S_ISLNK(mode) and path.is_file()):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "a special file (device, pipe or socket)"
    return f"{path} is {kind}, not a file"


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    problem = writable_target(path)
    if problem:
        raise NotAFile(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes 0600 files, which web servers cannot serve
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
