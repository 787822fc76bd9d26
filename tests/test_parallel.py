"""`make test` runs the suite on pytest-xdist workers, trusting `--dist loadgroup` to keep a group
on one worker: the kind tests share one kind lab, a module's tests their module's lab. With
pytest 9.2 and xdist 3.8 the groups were silently dropped (xdist issue 1386), so this runs a
small suite grouped as tests/conftest.py groups (markers added as each test is collected) and
checks every test of the group ran on one worker."""

from __future__ import annotations

import subprocess
import sys

import pytest

CONFTEST = """
import pytest

def pytest_itemcollected(item):
    if item.config.getoption("loadgroup", False):
        item.add_marker(pytest.mark.xdist_group("together"))
"""

TESTS = """
import os
import pytest

@pytest.mark.parametrize("n", range(8))
def test_where(n, tmp_path_factory):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    (tmp_path_factory.getbasetemp().parent.parent / f"ran-{n}").write_text(worker)
"""


def test_a_group_runs_on_one_worker(tmp_path):
    pytest.importorskip("xdist")
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_grouped.py").write_text(TESTS)
    (tmp_path / "base").mkdir()
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "3", "--dist", "loadgroup", "-p",
         "no:cacheprovider", "--basetemp", str(tmp_path / "base" / "run"), "-q", str(project)],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    workers = {(tmp_path / "base" / f"ran-{n}").read_text() for n in range(8)}
    assert len(workers) == 1, f"the group was spread over {sorted(workers)}"
