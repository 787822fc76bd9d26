"""The lab context: made once from the environment, handed down, and given back to the
processes the lab starts so that they find the same folders."""

from __future__ import annotations

import subprocess
import sys

from support.paths import ROOT

from demo.core.context import LabContext, silent


def test_a_child_process_finds_the_context_it_was_given(tmp_path):
    lab = LabContext(tmp_path / "state", tmp_path / "tools", silent)
    program = (
        "from demo.core.context import LabContext; c = LabContext.from_environment();"
        " print(c.state); print(c.tools)"
    )
    found = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **lab.child_env()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert found[:2] == [str(lab.state), str(lab.tools)]


def test_another_state_keeps_the_tools_and_the_log():
    said = []
    lab = LabContext(ROOT / "a", ROOT / "tools", said.append)
    other = lab.at(ROOT / "b")
    assert (other.state, other.tools) == (ROOT / "b", ROOT / "tools")
    other.log("x")
    lab.quiet().log("y")
    assert said == ["x"]
