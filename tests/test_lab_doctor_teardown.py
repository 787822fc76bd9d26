"""`make doctor` says what is wrong and how to fix it; `make demo-down` leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from conftest import ROOT, need
from lab_support import need_docker, need_registry

from demo import doctor, provision
from demo.clusters import provider
from demo.clusters.base import ClusterError
from demo.gitserver import GitServer
from demo.kube import kubectl
from demo.registry import LocalRegistry
from demo.services import listening


def test_doctor_reports_every_check_with_a_fix():
    checks = doctor.all_checks("kwok")
    names = [c.name for c in checks]
    for expected in ("docker", "memory", "cpu architecture", "free disk", "git", "kwok tools"):
        assert expected in names
    assert all(c.fix for c in checks if not c.ok), "every failed check says how to fix it"
    table = doctor.report(checks)
    assert table.splitlines()[0].split() == ["check", "result", "detail"]


def test_doctor_finds_a_busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        check = doctor.port_free(sock.getsockname()[1])
    assert not check.ok and "in use" in check.detail and "ss -ltnp" in check.fix


def test_doctor_command_exit_code_follows_the_checks():
    result = subprocess.run(
        [sys.executable, "-m", "demo.doctor", "kwok"], cwd=ROOT, capture_output=True, text=True
    )
    failed = [c for c in doctor.all_checks("kwok") if not c.ok and c.required]
    assert result.returncode == (1 if failed else 0), result.stdout
    assert "checks passed" in result.stdout


def test_existing_contexts_are_used_and_never_deleted(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    kwok = provider("kwok")
    made = kwok.create("existing")
    existing = provider("kubeconfig", kubeconfig=made.kubeconfig)
    cluster = existing.create(made.context)
    assert cluster.context == made.context and cluster.provider == "kubeconfig"
    with pytest.raises(ClusterError, match="not in") as caught:
        existing.create("no-such-context")
    assert made.context in str(caught.value), "the error lists the known contexts"
    existing.delete(made.context)
    assert "node-000000" in kubectl(cluster, "get", "nodes", "-o", "name")
    kwok.delete("existing")


def test_demo_down_removes_everything(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    need_docker()
    need_registry()
    cluster = provider("kwok").create("doomed")
    registry = LocalRegistry().start()
    git = GitServer()
    git.start()
    ports = [int(registry.address.split(":")[1]), git.port]
    assert all(listening(port) for port in ports)
    result = subprocess.run(
        [sys.executable, "-m", "demo.teardown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TELLIT_LAB_STATE": str(lab_state)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleting kwok cluster doomed" in result.stdout
    assert "nothing of the lab is left" in result.stdout
    assert not lab_state.exists()
    assert not any(listening(port) for port in ports)
    assert not cluster.kubeconfig.exists()
