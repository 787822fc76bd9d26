"""Every benchmark runs, at its smallest size (BENCH_SMOKE=1), so that `make bench` cannot break
unnoticed: the site's baseline once failed on a clean clone for months of changes.

A smoke run proves that a benchmark runs to its table; it times nothing and judges no target
(performance is `make bench`'s, never a test's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.lab import lab_at, need_docker, need_lab_tools, need_registry
from support.paths import ROOT

from demo.lab.teardown import down


def smoke(name: str, temporary: Path) -> str:
    """`python -m benchmarks.NAME` at its smallest size; its table, once it ran to the end.
    Its temporary folders (its lab states among them) go in `temporary`: a benchmark that
    died (one segfaulted in a C extension under load) leaves its clusters running there, and
    they are taken down here."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}"],
            cwd=ROOT,
            env={**os.environ, "BENCH_SMOKE": "1", "NO_MKDOCS_2_WARNING": "1",
                 "TMPDIR": str(temporary)},
            capture_output=True,
            text=True,
            timeout=1200,
        )  # fmt: skip
    finally:
        left = [line for state in temporary.glob("bench-*") for line in down(lab_at(state))]
    assert not left, f"a lab the benchmark left could not be taken down: {left}"
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-4000:]
    assert "Traceback" not in said, said[-4000:]
    table = (ROOT / ".artifacts" / "bench" / f"{name}.md").read_text()
    assert table in result.stdout, "the table printed is the one written"
    return table


def rows(table: str) -> list[list[str]]:
    """The cells of a Markdown table's rows (its header and rule left out)."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_the_site_benchmark_builds_the_same_pages_with_and_without_memes(tmp_path):
    table = smoke("site", tmp_path)
    measured = {row[0]: row for row in rows(table)}
    assert measured["plain Material build (no memes)"][1].endswith(" s")
    assert measured["rebuild, no change, in process (as `serve` does)"][2] == (
        "renders 0 (rendered 0)"
    )
    assert measured["rebuild, one caption changed"][2] == "renders 1 (rendered 1)"
    assert "a smoke run: targets not judged" in table


def lab_parts() -> None:
    need_docker()
    need_registry()
    need_lab_tools()


@pytest.mark.provisioned
@pytest.mark.parametrize("name", ["gitserver", "lab", "delivery", "agents"])
def test_each_lab_benchmark_runs_to_its_table(name, tmp_path):
    lab_parts()
    table = smoke(name, tmp_path)
    assert rows(table), table


@pytest.mark.kind
@pytest.mark.bench
def test_the_kind_benchmark_runs_to_its_table(tmp_path):
    """After the kind lab's own tests took it down (conftest orders `bench` after `kind`)."""
    lab_parts()
    table = smoke("kind", tmp_path)
    names = [row[0] for row in rows(table)]
    assert names == [
        "create 1 kind cluster",
        "memory of 1 kind cluster",
        "create 1 kwok cluster",
        "memory of 1 kwok cluster",
    ]
