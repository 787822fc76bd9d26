"""Where the lab keeps what outlives a clone: built tools and state, outside the work tree."""

from __future__ import annotations

import os
from pathlib import Path

# The lab's package and the clone it sits in, for modules that read files beside them (the app,
# the lock files, the docs): one place, so that a module can move between folders.
PACKAGE = Path(__file__).resolve().parent.parent
REPO = PACKAGE.parent


def cache_root() -> Path:
    """`$TELLIT_CACHE`, else the user's cache folder: a fresh clone on a warm machine reuses it."""
    configured = os.environ.get("TELLIT_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tell-it-with-a-meme"


def tools_dir() -> Path:
    """The built tools: `$TELLIT_TOOLS` (what the lab hands its child processes), else the
    cache's `tools` folder (where `make` builds actionlint too)."""
    configured = os.environ.get("TELLIT_TOOLS")
    return Path(configured).expanduser() if configured else cache_root() / "tools"


def state_dir() -> Path:
    """Lab state (clusters, registry, git server): one folder, so cleanup can find it all.

    `$TELLIT_LAB_STATE` moves it (tests give each run its own).
    """
    configured = os.environ.get("TELLIT_LAB_STATE")
    return Path(configured).expanduser() if configured else cache_root() / "lab"


def write_atomic(path: Path, text: str, mode: int = 0o600) -> Path:
    """Write `text` to `path` through a temporary file and a rename: readers of `path` see the
    old content or the new, never half; private (0600) unless `mode` says otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(text)
    temporary.replace(path)
    return path
