"""The lab's command line: doctor says what is wrong and how to fix it; up, status and down
bring the lab up, report it and remove all of it, even after a killed `up`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT
from helpers import need
from lab_support import demo, need_docker, need_registry

from demo.cli.main import build_parser
from demo.clusters import ClusterError, provider
from demo.core.checks import port_free
from demo.core.processes import listening
from demo.lab import doctor
from demo.toolchain import provision

pytestmark = pytest.mark.provisioned


def test_doctor_reports_every_check_with_a_fix():
    checks = doctor.all_checks("kwok")
    names = [c.name for c in checks]
    for expected in ("docker", "memory", "cpu architecture", "free disk", "git", "kwok tools"):
        assert expected in names
    assert all(c.fix for c in checks if not c.ok), "every failed check says how to fix it"
    kind = [c.name for c in doctor.all_checks("kind")]
    assert "port 5001" in kind and "kwok tools" not in kind, "each provider adds its own checks"


def test_doctor_finds_a_busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        check = port_free(sock.getsockname()[1])
    assert not check.ok and "in use" in check.detail and "ss -ltnp" in check.fix


def test_doctor_command_exit_code_follows_the_checks(lab_state):
    result = demo("doctor", "--provider", "kwok", "--json", state=lab_state)
    answer = json.loads(result.stdout)
    failed = [c for c in answer["checks"] if c["result"] == "FAIL"]
    assert result.returncode == (1 if failed else 0), result.stdout
    assert answer["ready"] is not bool(failed) and "checks passed" in answer["summary"]
    assert {"docker", "git"} <= {c["name"] for c in answer["checks"]}
    assert all(set(c) >= {"name", "result", "detail", "fix"} for c in answer["checks"])
    shown = demo("doctor", "--provider", "kwok", state=lab_state)  # the table, for a person
    assert shown.returncode == result.returncode and "checks passed" in shown.stdout


def test_help_explains_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices
    assert len(commands) == 13, sorted(commands)
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


def test_existing_contexts_are_used_and_never_deleted(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    kwok = provider("kwok")
    made = kwok.create("existing")
    existing = provider("kubeconfig", kubeconfig=made.kubeconfig)
    assert existing.names(3) == [made.context], "every context, whatever the count"
    cluster = existing.create(made.context)
    assert cluster.context == made.context and cluster.provider == "kubeconfig"
    assert existing.health(cluster).ready
    with pytest.raises(ClusterError, match="not in") as caught:
        existing.create("no-such-context")
    assert made.context in caught.value.fix, "the error lists the known contexts"
    existing.delete(made.context)
    assert existing.cleanup(log=print) == []
    assert "node-000000" in cluster.kubectl("get", "nodes", "-o", "name")
    kwok.delete("existing")


def test_up_status_down(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    need_docker()
    need_registry()
    up = demo("up", "--provider", "kwok", "--clusters", "2", state=lab_state)
    assert up.returncode == 0, up.stdout + up.stderr
    for expected in ("east", "west", "Ready, 2 node(s)", "registry", "git server"):
        assert expected in up.stdout
    again = demo("up", "--provider", "kwok", "--clusters", "2", state=lab_state)
    assert again.returncode == 0 and "The lab is up" in again.stdout, "up is idempotent"
    other = demo("up", "--provider", "kind", state=lab_state)
    assert other.returncode == 1 and "is up with the kwok provider" in other.stderr

    status = demo("status", "--json", state=lab_state)
    assert status.returncode == 0, status.stdout
    answer = json.loads(status.stdout)
    assert [(c["name"], c["ready"], c["detail"]) for c in answer["clusters"]] == [
        ("east", True, "Ready, 2 node(s)"),
        ("west", True, "Ready, 2 node(s)"),
    ]
    assert all(s["healthy"] and s["address"] for s in answer["services"].values()), answer
    shown = demo("status", state=lab_state)  # the tables, for a person
    assert shown.stdout.count("Ready, 2 node(s)") == 2 and shown.stdout.count("answers") == 2
    ports = listening_ports_of(lab_state)
    assert len(ports) >= 2 * 6 + 2, ports  # six per cluster, the registry and the git server

    # A cluster broken behind the lab's back shows in status, with what to do.
    apiserver = (lab_state / "kwok/clusters/tellit-west/pids/kube-apiserver.pid").read_text()
    os.kill(int(apiserver), signal.SIGKILL)
    broken = demo("status", "--json", state=lab_state)
    west = next(c for c in json.loads(broken.stdout)["clusters"] if c["name"] == "west")
    assert broken.returncode == 1 and not west["ready"] and "does not answer" in west["detail"]
    assert "demo up" in west["fix"]

    down = demo("down", state=lab_state)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "Nothing of the lab is left" in down.stdout
    assert not lab_state.exists()
    still = [port for port in ports if listening(port)]
    assert still == [], f"ports still open right after down: {still}"


def test_a_killed_up_is_cleaned_by_down(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "up", "--provider", "kwok", "--clusters", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TELLIT_LAB_STATE": str(lab_state)},
    )
    groups = lab_state / "kwok" / "running"
    deadline = time.monotonic() + 120
    while not (list(groups.glob("*.pgid")) and apiservers(lab_state)):
        assert process.poll() is None, "up ended before it created anything"
        assert time.monotonic() < deadline, "up started no API server in 120 s"
        time.sleep(0.02)
    process.kill()  # mid-create, as a closed laptop lid or an OOM kill would
    process.wait()
    orphans = [p for p in psutil.process_iter() if _from(p, lab_state)]
    assert orphans, "the killed up left processes behind (what down must clean)"

    down = demo("down", state=lab_state)
    assert down.returncode == 0, down.stdout + down.stderr
    left = [p for p in psutil.process_iter() if _from(p, lab_state)]
    assert left == [], f"down left {left}"
    assert not lab_state.exists()


def apiservers(state: Path) -> list[psutil.Process]:
    return [
        p
        for p in psutil.process_iter(["name"])
        if p.info["name"] == "kube-apiserver" and _from(p, state)
    ]


def listening_ports_of(state: Path) -> list[int]:
    """Every port a process of this lab state listens on."""
    ports = []
    for process in psutil.process_iter():
        if _from(process, state):
            try:
                connections = process.net_connections(kind="tcp")
            except psutil.Error:
                continue
            ports += [c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN]
    return sorted(set(ports))


def _from(process: psutil.Process, state: Path) -> bool:
    from demo.core.processes import runs_from

    return runs_from(process, state)


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
