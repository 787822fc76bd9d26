"""The shell lines of `python -m demo kubeconfig`: what an attendee evaluates must reach the lab."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from demo.lab.shell import Reach, export_lines, kubeconfig_value

TOOLS = Path("/opt/lab tools/kubectl-v1")  # a space, as in a macOS home folder
REACHES = [
    Reach(
        "east",
        Path("/lab state/kubeconfigs/tellit-east.yaml"),
        "kind-tellit-east",
        TOOLS / "kubectl",
    ),
    Reach(
        "west",
        Path("/lab state/kubeconfigs/tellit-west.yaml"),
        "kind-tellit-west",
        TOOLS / "kubectl",
    ),
]


def evaluated(lines: list[str], path: str) -> dict[str, str]:
    """KUBECONFIG and PATH after a POSIX shell evaluates `lines` (spaces and all)."""
    script = "\n".join(lines) + '\nprintf "%s\\n%s\\n" "$KUBECONFIG" "$PATH"'
    done = subprocess.run(
        ["sh", "-c", script], env={"PATH": path}, capture_output=True, text=True, check=True
    )
    kubeconfig, new_path = done.stdout.splitlines()
    return {"KUBECONFIG": kubeconfig, "PATH": new_path}


def test_a_posix_shell_gets_every_file_and_the_labs_kubectl_first():
    env = evaluated(export_lines(REACHES, "sh", "/usr/bin:/bin"), "/usr/bin:/bin")
    assert env["KUBECONFIG"].split(os.pathsep) == [str(r.kubeconfig) for r in REACHES]
    assert env["PATH"] == f"{TOOLS}:/usr/bin:/bin"


def test_evaluating_twice_does_not_grow_path():
    first = evaluated(export_lines(REACHES, "sh", "/usr/bin:/bin"), "/usr/bin:/bin")
    again = export_lines(REACHES, "sh", first["PATH"])
    assert len(again) == 1 and again[0].startswith("export KUBECONFIG=")


def test_fish_gets_its_own_syntax():
    lines = export_lines(REACHES[:1], "fish", "/usr/bin")
    assert lines == [
        f"set -gx KUBECONFIG '{REACHES[0].kubeconfig}'",
        f"set -gx PATH '{TOOLS}' $PATH",
    ]


def test_one_file_per_cluster_is_named_once():
    shared = [
        Reach(r.cluster, Path("/home/me/.kube/config"), r.context, r.kubectl) for r in REACHES
    ]
    assert kubeconfig_value(shared) == "/home/me/.kube/config"


def test_no_cluster_no_lines_and_an_unknown_shell_is_refused():
    assert export_lines([], "sh", "/bin") == []
    with pytest.raises(ValueError, match="unknown shell 'csh'"):
        export_lines(REACHES, "csh", "/bin")
