"""How every lab benchmark reports: a Markdown table, printed and kept in .artifacts/bench."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator.files import write_atomically

ROOT = Path(__file__).resolve().parent.parent


def publish(name: str, header: Sequence[str], rows: Sequence[Sequence[str]], note: str) -> str:
    """Print the table (numbers right-aligned after the first column) and write it atomically
    to .artifacts/bench/<name>.md; the text."""
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    text = "\n".join([*lines, "", note]) + "\n"
    print(text)
    write_atomically(ROOT / ".artifacts" / "bench" / f"{name}.md", text.encode())
    return text
