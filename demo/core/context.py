"""What every part of the lab is handed instead of finding it: where this lab's state lives,
where the built tools live, and where progress goes.

The command line makes one from the environment (`from_environment`, the only reader of
`TELLIT_LAB_STATE`, `TELLIT_TOOLS` and `TELLIT_CACHE` for the lab's own process); tests,
experiments and recordings make theirs for a folder of their own and pass it down. Child
processes the lab starts get the same folders back through `child_env`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from demo.core.paths import cache_root, state_dir, tools_dir

Log = Callable[[str], None]


def silent(message: str) -> None:
    """A log that keeps nothing, for parts whose progress a caller does not show."""


@dataclass(frozen=True)
class LabContext:
    state: Path  # the lab state: clusters, registry, git server, credentials
    tools: Path  # the built tools (kind, kubectl, kwok, Flux), keyed by version
    log: Log = print

    @classmethod
    def from_environment(cls, log: Log = print) -> LabContext:
        return cls(state_dir(), tools_dir(), log)

    def at(self, state: Path) -> LabContext:
        """The same tools and log for another lab state (an experiment's own, a test's)."""
        return replace(self, state=state)

    def logging(self, log: Log) -> LabContext:
        return replace(self, log=log)

    def quiet(self) -> LabContext:
        return replace(self, log=silent)

    def child_env(self) -> dict[str, str]:
        """What a child process needs to find this lab state and these tools."""
        return {
            "TELLIT_CACHE": str(cache_root()),
            "TELLIT_TOOLS": str(self.tools),
            "TELLIT_LAB_STATE": str(self.state),
        }
