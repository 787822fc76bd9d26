"""up, status and down on kwok: they bring the lab up, report it and remove all of it, even
after a killed `up`, and never delete a context they did not make. (The command line without
a lab: tests/lab/unit/test_cli.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from support.lab import demo, lab_at, need_docker, need_lab_tools, need_registry
from support.paths import ROOT

from demo.clusters import ClusterError, provider
from demo.core.processes import listening

pytestmark = pytest.mark.provisioned


def test_existing_contexts_are_used_and_never_deleted(lab_state):
    need_lab_tools()
    kwok = provider("kwok", lab_at(lab_state))
    made = kwok.create("existing")
    existing = provider("kubeconfig", lab_at(lab_state), kubeconfig=made.kubeconfig)
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
    need_lab_tools()
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
    need_lab_tools()
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
