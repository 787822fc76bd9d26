"""The GitHub Pages workflow passes actionlint (built from its Go module by `make tools`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.helpers import need
from support.paths import ROOT

pytestmark = pytest.mark.provisioned


def actionlint() -> str | None:
    configured = os.environ.get("ACTIONLINT")
    if configured and Path(configured).is_file():
        return configured
    return shutil.which("actionlint")


def test_workflows_are_valid():
    """The Pages workflow, and the push pipeline readers copy (demo/ci)."""
    binary = actionlint()
    need(binary is not None, "actionlint (make tools builds it with Go)")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "the Pages workflow is missing"
    workflows += [ROOT / "demo" / "ci" / "push-pipeline.yml"]
    result = subprocess.run(
        [binary, "-no-color", *map(str, workflows)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    binary = actionlint()
    need(binary is not None, "actionlint (make tools builds it with Go)")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.nonexistent_context_key }}\n"
    )
    result = subprocess.run([binary, "-no-color", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0
