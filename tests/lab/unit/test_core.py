"""The lab's pure parts: version skew, names, errors, atomic writes, commands and their groups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest
from support.lab import lab_at

from demo.clusters import ClusterError
from demo.clusters.base import default_names, skew_problem
from demo.clusters.kwok import KwokProvider, kwokctl_config
from demo.core import processes
from demo.core.errors import LabError
from demo.core.paths import write_atomic
from demo.core.run import CommandError, end_recorded_group, run
from demo.lab.record import LabRecord


@pytest.mark.parametrize(
    ("client", "server", "allowed"),
    [
        ("v1.50.3", "v1.50.0", True),
        ("v1.50.3", "v1.49.9", True),
        ("v1.47.1", "v1.48.2+k3s1", True),
        ("v1.50.3", "v1.47.1", False),  # the lab's old mistake: kubectl three minors ahead
        ("v1.45.0", "v1.47.1", False),
        ("v2.0.0", "v1.50.0", False),
    ],
)
def test_kubectl_must_be_within_one_minor_of_the_api_server(client, server, allowed):
    problem = skew_problem(client, server)
    assert (problem is None) == allowed
    if problem:
        assert "version-skew policy" in problem and client in problem and server in problem


def test_default_names_and_a_bad_count():
    assert default_names(3) == ["east", "west", "north"]
    assert default_names(7)[5:] == ["c6", "c7"]
    with pytest.raises(ClusterError, match="not a number of clusters"):
        default_names(0)


def test_kwokctl_runs_our_kubectl_and_binds_loopback(tmp_path):
    owner = KwokProvider(lab_at(tmp_path))
    first = owner.env()["PATH"].split(os.pathsep)[0]
    assert first == str(owner.binaries["kubectl"].parent), "kwokctl prefers PATH's kubectl"
    assert "  bindAddress: 127.0.0.1\n" in kwokctl_config({"etcdPort": 1})
    command = owner.create_command("east")
    assert command[command.index("--name") + 1] == "tellit-east"


def test_lab_errors_say_what_to_do_and_keep_their_cause():
    error = LabError("the registry does not answer", "run `python -m demo up`")
    assert str(error) == "the registry does not answer\n  what to do: run `python -m demo up`"
    with pytest.raises(CommandError) as caught:
        run(["/nonexistent/tool", "--flag"])
    assert "is not installed" in caught.value.message and "make provision" in caught.value.fix
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    with pytest.raises(CommandError, match=r"failed \(exit 3\):\nbad"):
        run(["sh", "-c", "echo bad >&2; exit 3"])


def test_a_timed_out_command_takes_its_children_with_it(tmp_path):
    marker = tmp_path / "child.pid"
    with pytest.raises(CommandError, match="did not finish"):
        run(["sh", "-c", f"sleep 60 & echo $! > {marker}; wait"], timeout=1)
    try:  # reaped, or a zombie waiting for its reaper: either way no longer running
        gone = psutil.Process(int(marker.read_text())).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        gone = True
    assert gone, "the command's child outlived the timeout"


def test_a_recorded_group_outlives_its_runner_and_is_ended(tmp_path):
    group_file = tmp_path / "running" / "op.pgid"
    script = (
        "from demo.core.run import run; import pathlib, sys;"
        f" run(['sh', '-c', 'sleep 60 & sleep 60'], group_file=pathlib.Path({str(group_file)!r}))"
    )
    runner = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not group_file.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    runner.kill()  # the runner dies; its command's group lives on
    runner.wait()
    pgid = int(group_file.read_text().split()[0])
    members = [p for p in psutil.process_iter() if _group(p) == pgid]
    assert members, "the command outlived the killed runner"
    assert end_recorded_group(group_file)
    assert not group_file.exists()
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in members)


def _group(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def test_private_files_are_written_whole_and_private(tmp_path):
    path = write_atomic(tmp_path / "deep" / "token.json", '{"a": 1}')
    assert path.read_text() == '{"a": 1}' and oct(path.stat().st_mode & 0o777) == "0o600"
    write_atomic(path, "second")
    assert path.read_text() == "second" and [p.name for p in path.parent.iterdir()] == [
        "token.json"
    ]


def test_the_lab_record_round_trips_and_refuses_garbage(tmp_path):
    LabRecord("kwok", ["east"], {}).save(tmp_path)
    assert LabRecord.load(tmp_path) == LabRecord("kwok", ["east"], {})
    (tmp_path / "lab.json").write_text('{"provider": "kwok", "extra": 1}')
    with pytest.raises(LabError, match="not a lab record") as caught:
        LabRecord.load(tmp_path)
    assert "demo down" in caught.value.fix
    assert LabRecord.load(tmp_path / "none") is None


def test_a_stale_heartbeat_tells_a_stuck_agent_from_a_running_one():
    import datetime as dt

    from demo.delivery.agents import AgentInfo

    now = dt.datetime(2026, 12, 3, 12, 0, 0, tzinfo=dt.UTC).timestamp()

    def info(seconds_ago: int) -> AgentInfo:
        beat = dt.datetime.fromtimestamp(now - seconds_ago, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return AgentInfo("east", True, None, None, {"heartbeat": beat, "interval": "5"})

    assert info(20).silent_for(now) is None  # within three rounds of 5 s and some
    assert info(120).silent_for(now) == 120
    assert AgentInfo("east", True, None, None, {}).silent_for(now) is None  # Flux: no beat


def test_a_hook_run_that_never_comes_says_what_the_hooks_log_said(tmp_path):
    """Waiting for the pipeline a push started: on a timeout, the end of the hook's log."""
    from demo.experiments.measure import HOOK_LOG, hook_run

    log = tmp_path / HOOK_LOG
    log.parent.mkdir(parents=True)
    log.write_text("validate: ok\nbuild: failed: no space left on device\n")
    with pytest.raises(LabError) as caught:
        hook_run(tmp_path, "93edd7df238a0000", wait=0.1)
    assert "did not finish in 0.1 s" in caught.value.message
    assert "build: failed: no space left on device" in caught.value.message
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "0001-93edd7df238a.json").write_text('{"ok": true}')
    assert hook_run(tmp_path, "93edd7df238a0000", wait=0.1) == {"ok": True}


ASK_PORTS = """
import json, sys, time
from pathlib import Path
from demo.core import processes
processes.LEDGER = Path(sys.argv[1])
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # both ask at the same moment
print(json.dumps(processes.free_ports(150)))
"""


def test_two_processes_asking_at_once_are_given_different_ports(tmp_path):
    ledger = tmp_path / "ports.json"
    start = time.time() + 1.5
    askers = [
        subprocess.Popen(
            [sys.executable, "-c", ASK_PORTS, str(ledger), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    given = [set(json.loads(asker.communicate(timeout=60)[0])) for asker in askers]
    assert all(len(ports) == 150 for ports in given)
    assert not given[0] & given[1], "a port was handed to both"
    recorded = json.loads(ledger.read_text())
    assert {int(port) for port in recorded} == given[0] | given[1]


def test_the_ports_ledger_forgets_old_ports_and_survives_damage(tmp_path, monkeypatch):
    ledger = tmp_path / "ports.json"
    monkeypatch.setattr(processes, "LEDGER", ledger)
    ledger.write_text(json.dumps({"1": time.time() - processes.HELD - 1, "2": time.time()}))
    with processes._ledger() as taken:
        assert set(taken) == {2}  # the old one is forgotten, the recent one kept
    for damaged in ("not json", "[1, 2]", '{"x": "y"}'):
        ledger.write_text(damaged)
        port = processes.free_port()
        assert list(json.loads(ledger.read_text())) == [str(port)]
