"""The lab's command line without a lab: doctor says what is wrong and how to fix it, every
command explains itself, errors go to stderr with what to do, and a machine that needs setting
up without root gets one message of what to run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from support.helpers import need
from support.lab import demo, lab_at
from support.paths import ROOT

from demo.cli.main import build_parser
from demo.core.checks import port_free
from demo.lab import doctor


def test_doctor_reports_every_check_with_a_fix(tmp_path):
    checks = doctor.all_checks("kwok", lab_at(tmp_path / "lab"))
    names = [c.name for c in checks]
    for expected in ("docker", "memory", "cpu architecture", "free disk", "git", "kwok tools"):
        assert expected in names
    assert all(c.fix for c in checks if not c.ok), "every failed check says how to fix it"
    kind = [c.name for c in doctor.all_checks("kind", lab_at(tmp_path / "lab"))]
    assert "port 5001" in kind and "kwok tools" not in kind, "each provider adds its own checks"


def test_doctor_finds_a_busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        check = port_free(sock.getsockname()[1])
    assert not check.ok and "in use" in check.detail and "ss -ltnp" in check.fix


def test_doctor_command_exit_code_follows_the_checks(lab_state, tmp_path):
    result = demo("doctor", "--provider", "kwok", "--json", state=lab_state)
    answer = json.loads(result.stdout)
    failed = [c for c in answer["checks"] if c["result"] == "FAIL"]
    assert result.returncode == (1 if failed else 0), result.stdout
    assert answer["ready"] is not bool(failed) and "checks passed" in answer["summary"]
    assert {"docker", "git"} <= {c["name"] for c in answer["checks"]}
    assert all(set(c) >= {"name", "result", "detail", "fix"} for c in answer["checks"])
    shown = demo("doctor", "--provider", "kwok", state=lab_state)  # the table, for a person
    assert shown.returncode == result.returncode and "checks passed" in shown.stdout
    # A machine known to fail, decided here and not by doctor: no git on PATH.
    bare = tmp_path / "bin"
    bare.mkdir()
    no_git = demo("doctor", "--provider", "kwok", "--json", state=lab_state, path=str(bare))
    assert no_git.returncode == 1, no_git.stdout + no_git.stderr
    git = next(c for c in json.loads(no_git.stdout)["checks"] if c["name"] == "git")
    assert git["result"] == "FAIL" and git["fix"]


def test_help_explains_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices
    assert len(commands) == 15, sorted(commands)
    for command in commands:
        assert f"    {command}" in result.stdout, f"--help does not list {command}"
        helped = subprocess.run(
            [sys.executable, "-m", "demo", command, "--help"], cwd=ROOT, capture_output=True,
            text=True,
        )  # fmt: skip
        assert helped.returncode == 0 and f"python -m demo {command}" in helped.stdout
    version = subprocess.run(
        [sys.executable, "-m", "demo", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert version.returncode == 0 and "Kubernetes v1." in version.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "demo", "up", "--provider", "minikube"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 2 and "choose from" in wrong.stderr


def test_errors_say_what_to_do_without_a_traceback(lab_state):
    lab_state.mkdir(parents=True)
    (lab_state / "lab.json").write_text("{not json")
    result = demo("status", state=lab_state)
    assert result.returncode == 1
    assert "error:" in result.stderr and "what to do:" in result.stderr, "errors go to stderr"
    assert "error:" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    (lab_state / "lab.json").unlink()
    bad = demo("up", "--provider", "kubeconfig", "--kubeconfig", "/nonexistent", state=lab_state)
    assert bad.returncode == 1 and "no kubeconfig at /nonexistent" in bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr


def test_set_up_without_root_stops_with_one_message_of_what_to_run(tmp_path):
    """`make test` on a machine where it may not install: one message, the exact commands."""
    runuser = shutil.which("runuser")
    need(os.geteuid() == 0 and runuser is not None, "root and runuser, to act as another user")
    # A PATH with the shell's tools and nothing the lab needs, in a folder the other user
    # may read (pytest's own temporary folders are private to root).
    bare = Path(tempfile.mkdtemp(prefix="tellit-host-"))
    try:
        bare.chmod(0o755)
        for tool in ("sh", "id", "sort", "tr", "sed", "grep"):
            (bare / tool).symlink_to(shutil.which(tool))
        shutil.copy(ROOT / "demo" / "host.sh", bare / "host.sh")
        result = subprocess.run(
            [runuser, "-u", "nobody", "--", str(bare / "sh"), str(bare / "host.sh")],
            capture_output=True,
            text=True,
            env={"PATH": str(bare), "HOME": str(bare)},
        )
    finally:
        shutil.rmtree(bare)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "host: this machine needs setting up, and that needs root. Run:"
    install = lines[1].strip()
    assert install.startswith("sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive")
    for package in ("docker.io", "docker-registry", "git"):
        assert f" {package}" in install
    assert "sudo systemctl start docker" in install
    assert lines[2] == "then run the same make command again." and len(lines) == 3
