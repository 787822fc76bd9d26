"""How every lab benchmark reports: a Markdown table, printed and kept in .artifacts/bench."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from generator.files import write_atomically

ROOT = Path(__file__).resolve().parent.parent
# BENCH_SMOKE=1: every benchmark at its smallest size, once, so a test can run them all and
# `make bench` cannot break unnoticed. Its numbers prove the benchmark runs, nothing more: a
# smoke run judges no target (tests never time anything).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def runs(variable: str, default: int) -> int:
    """How many runs a benchmark makes: its variable, else `default`; 1 in a smoke run."""
    return 1 if SMOKE else int(os.environ.get(variable, str(default)))


def verdict(missed: bool) -> int:
    """The benchmark's exit status: 1 when a target was missed (never in a smoke run)."""
    return 1 if missed and not SMOKE else 0


def publish(name: str, header: Sequence[str], rows: Sequence[Sequence[str]], note: str) -> str:
    """Print the table (numbers right-aligned after the first column) and write it atomically
    to .artifacts/bench/<name>.md; the text."""
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    text = "\n".join([*lines, "", note]) + "\n"
    print(text)
    write_atomically(ROOT / ".artifacts" / "bench" / f"{name}.md", text.encode())
    return text
