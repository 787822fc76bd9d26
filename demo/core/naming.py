"""How the lab names what it creates, so cleanup finds all of it and nothing else.

Every cluster, container, network and service the lab makes is named with `PREFIX` or carries
`LABEL`; every environment variable the lab reads starts with `ENV_PREFIX`. Names are checked
with full matches: a `$` anchor lets a trailing newline through.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from demo.core.errors import LabError

PREFIX = "tellit-"
LABEL = "tell-it-with-a-meme/lab"
# Which lab state made a Docker object: `down` removes its own state's objects and no other's
# (a test's teardown beside a reader's lab that is up, two experiments on one machine).
STATE_LABEL = f"{LABEL}.state"
ENV_PREFIX = "TELLIT_"
# A DNS label short enough that kind's "<prefix><name>-control-plane" stays within 63 characters.
NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")


def state_owner(root: Path) -> str:
    """The STATE_LABEL value of the lab state at `root`: a digest of its absolute path."""
    return hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]


def check_name(name: str, what: str = "cluster name") -> str:
    """`name` itself when it is a valid short name; a LabError that says what fits otherwise."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise LabError(
            f"{what} {name!r} is not valid",
            "use up to 32 lowercase letters, digits and dashes, starting and ending with a"
            " letter or digit",
        )
    return name


def lab_name(name: str) -> str:
    """The full name of something the lab creates: the lab's prefix plus the reader's name."""
    return PREFIX + check_name(name)


def short_name(full: str) -> str | None:
    """The reader's name inside a full lab name, or None when `full` is not the lab's."""
    if not full.startswith(PREFIX):
        return None
    short = full.removeprefix(PREFIX)
    return short if NAME.fullmatch(short) else None


def env(name: str, default: str = "") -> str:
    """The lab's setting `TELLIT_<name>` from the environment."""
    return os.environ.get(ENV_PREFIX + name, default)
