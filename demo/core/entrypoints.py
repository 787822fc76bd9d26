"""The lab's programs that run as processes of their own, by name, in one table.

A module that moves changes one line here instead of a command line in every module that
starts it; a test checks that each entry resolves and that no other file names a module of
the lab after `-m`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MODULES: dict[str, str] = {
    "cli": "demo",  # python -m demo: the lab's one command line
    "agent": "demo.delivery.agent.reconciler",  # the pull agent, on the host or in a cluster
    "gitserver": "demo.services.git",  # git over smart HTTP, on the host or in a cluster
    "githook": "demo.services.git.hook",  # the git server's post-receive hook
    "fluxreceiver": "demo.delivery.flux.receiver",  # the Flux side's webhook receiver
    "kindshim": "demo.clusters.kind.shim",  # the docker kind calls where --privileged is refused
    "pack": "demo.offline.pack",  # make prefetch: the workshop's offline bundle
    "load": "demo.offline.load",  # make offline: an attendee's laptop from the bundle
}


def module(name: str) -> str:
    """The module `python -m` runs for the program `name`."""
    return MODULES[name]


def python_m(name: str, python: str = sys.executable) -> list[str]:
    """The command line that starts the program `name` with `python`."""
    return [python, "-m", MODULES[name]]


def source(name: str) -> Path:
    """The file of the program `name`, for callers that run it by path (kind's PATH shim)."""
    spec = importlib.util.find_spec(MODULES[name])
    if spec is None or spec.origin is None:
        raise LookupError(f"{MODULES[name]} (the {name} program) is not importable")
    return Path(spec.origin).resolve()
