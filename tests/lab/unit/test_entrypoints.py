"""The lab's programs are started through one table: each entry resolves to a runnable module,
and no command line elsewhere names a module of the lab that the table does not hold."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from support.paths import ROOT

from demo.core import entrypoints
from demo.toolchain import pyimage

# `python -m demo.x` as prose or a Makefile spells it, and ["-m", "demo.x"] as code does.
SPELLED = re.compile(r'-m\s+(demo(?:\.[a-z_]+)*)\b|"-m",\s*"(demo(?:\.[a-z_]+)*)"')


@pytest.mark.parametrize("name", sorted(entrypoints.MODULES))
def test_each_program_resolves_to_a_module_that_runs(name):
    spec = importlib.util.find_spec(entrypoints.module(name))
    assert spec is not None and spec.origin, f"{name}: {entrypoints.module(name)} is not importable"
    if spec.submodule_search_locations:  # a package runs through its __main__
        assert importlib.util.find_spec(f"{entrypoints.module(name)}.__main__") is not None
    else:
        assert 'if __name__ == "__main__":' in Path(spec.origin).read_text(), name
    assert entrypoints.source(name).is_file()
    assert entrypoints.python_m(name, "python3") == ["python3", "-m", entrypoints.module(name)]


def spelled_modules() -> dict[str, list[str]]:
    """Every `-m demo...` written in the project's sources, docs and Makefile, by module."""
    files = [ROOT / "Makefile", ROOT / "README.md", *ROOT.glob("demo/**/*.py")]
    files += [*ROOT.glob("docs/**/*.md"), *ROOT.glob(".ci/*"), *ROOT.glob("benchmarks/*.py")]
    found: dict[str, list[str]] = {}
    for path in files:
        for match in SPELLED.finditer(path.read_text()):
            found.setdefault(match[1] or match[2], []).append(str(path.relative_to(ROOT)))
    return found


def test_every_module_a_command_line_names_is_in_the_table():
    found = spelled_modules()
    assert "demo.delivery.agent.reconciler" in found or "demo" in found, (
        "the scan found no command line at all"
    )
    unknown = {
        name: where for name, where in found.items() if name not in entrypoints.MODULES.values()
    }
    assert not unknown, f"command lines name modules the entry-point table lacks: {unknown}"


def test_no_module_of_the_lab_spells_an_entry_point_as_a_string_of_its_own():
    table = set(entrypoints.MODULES.values()) - {"demo"}
    spelled = []
    for path in ROOT.glob("demo/**/*.py"):
        if path.name == "entrypoints.py":
            continue
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.STRING and token.string.strip("\"'") in table:
                spelled.append(f"{path.relative_to(ROOT)}:{token.start[0]} {token.string}")
    assert not spelled, f"use demo.entrypoints instead: {spelled}"


def test_the_in_cluster_image_holds_what_its_programs_import_and_no_more(tmp_path):
    """The Python image copies the files the agent and the git mirror import (found from
    their import statements), so a change elsewhere makes no new image: both programs start
    from that copy alone, and the command line, experiments and workshop are not in it."""
    copied = tmp_path / "code"
    pyimage.copy_code(copied)
    names = {str(p.relative_to(copied / "demo")) for p in copied.rglob("*.py")}
    assert {"delivery/agent/reconciler.py", "services/git/__main__.py"} <= names
    assert not any(n.startswith(("cli/", "experiments/", "workshop/", "offline/")) for n in names)
    for entry in pyimage.IN_CLUSTER:
        started = subprocess.run(
            [sys.executable, "-m", entrypoints.module(entry), "--help"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(copied)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr[-2000:]
    where = subprocess.run(
        [sys.executable, "-c", "import demo; print(demo.__file__)"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(copied)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(copied)), "the copy, not the clone, was imported"
