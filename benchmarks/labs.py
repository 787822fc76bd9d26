"""The lab context a benchmark runs its own lab state in: this machine's tools, no log."""

from __future__ import annotations

from pathlib import Path

from demo.core.context import LabContext, silent
from demo.core.paths import tools_dir


def quiet_lab(state: Path) -> LabContext:
    return LabContext(state, tools_dir(), silent)
