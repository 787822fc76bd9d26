"""`make demo PROVIDER=kwok`, end to end and twice in a row, and the push and agent commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from support.lab import (
    demo,
    demo_env,
    lab_at,
    need_docker,
    need_flux,
    need_lab_tools,
    need_registry,
    tour_rows,
)
from support.paths import ROOT

from demo.core.paths import tools_dir
from demo.core.waits import until
from demo.delivery.lab_delivery import Delivery

pytestmark = pytest.mark.provisioned

FLUX_BINARIES = ("/source-controller", "/kustomize-controller")


def make_demo(state, *settings: str) -> subprocess.CompletedProcess:
    """`make demo` with these settings, in the lab state `state`."""
    return subprocess.run(
        ["make", "--no-print-directory", "demo", *settings],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=demo_env(state),
    )


def test_make_demo_twice_then_push_and_agent_commands(lab_state):
    need_lab_tools()
    need_docker()
    need_registry()
    make = make_demo(lab_state, "PROVIDER=kwok", "CLUSTERS=2")
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    out = make.stdout
    for expected in ("checks passed", "1/3 push", "2/3 pull", "3/3 drift", "What happened"):
        assert expected in out, out[-3000:]
    rows = tour_rows(lab_state)
    assert [row["step"] for row in rows] == ["push", "push", "pull", "pull"], rows  # two clusters
    assert all(row["digest"].startswith("sha256:") for row in rows), rows
    assert "put back by its agent" in out

    again = demo("tour", "--provider", "kwok", "--clusters", "2", state=lab_state)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "What happened" in again.stdout

    status = demo("agent", "status", "--json", state=lab_state)
    agents = json.loads(status.stdout)
    assert status.returncode == 0 and agents["mode"] == "pull", status.stdout
    assert [(a["cluster"], a["running"]) for a in agents["agents"]] == [
        ("east", True),
        ("west", True),
    ]

    stopped = demo("agent", "stop", "-o", "json", state=lab_state)
    agents = json.loads(stopped.stdout)
    assert stopped.returncode == 0 and agents["mode"] == "push", stopped.stdout
    assert not any(a["running"] for a in agents["agents"]), agents

    pushed = demo("push", "--no-build", "--json", state=lab_state)
    assert pushed.returncode == 0, pushed.stdout[-3000:] + pushed.stderr[-3000:]
    run = json.loads(pushed.stdout)
    assert run["ok"] and run["mode"] == "push", run
    assert "deploy and verify" in [stage["name"] for stage in run["stages"]], run["stages"]
    assert sorted(c["cluster"] for c in run["clusters"]) == ["east", "west"]
    shown = demo("push", "--no-build", state=lab_state)  # the table, for a person
    assert "(push mode): ok" in shown.stdout and "Pipeline run for" in shown.stdout


def test_push_works_on_a_lab_just_brought_up(lab_state):
    """`push` before any `agent start` said "repository ... app.git not found": `up` makes
    the repositories and accounts that push needs."""
    need_lab_tools()
    need_docker()
    need_registry()
    up = demo("up", "--provider", "kwok", "--clusters", "1", state=lab_state)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    pushed = demo("push", state=lab_state)
    assert pushed.returncode == 0, pushed.stdout[-3000:] + pushed.stderr[-3000:]
    assert "(push mode): ok" in pushed.stdout


def test_the_walkthrough_checks_each_step_and_waits_for_the_attendee(lab_state):
    need_lab_tools()
    need_docker()
    need_registry()
    walk = demo("lab", "--provider", "kwok", "--clusters", "1", "--yes", state=lab_state)
    assert walk.returncode == 0, walk.stdout[-3000:]
    out = walk.stdout
    for number, title in enumerate(("push", "pull", "drift"), start=1):
        assert f"{number}/3 {title}:" in out
    assert out.count("check: ok") == 3 and "by hand: python -m demo push" in out

    # Without --yes and with nothing to answer, it stops before doing anything.
    stopped = subprocess.run(
        [sys.executable, "-m", "demo", "lab", "--provider", "kwok", "--clusters", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        env=demo_env(lab_state),
    )
    assert stopped.returncode == 1 and "1/3 push" in stopped.stdout
    assert "check:" not in stopped.stdout


def test_make_demo_with_flux_then_stop_leaves_the_app_and_no_flux(lab_state):
    need_lab_tools()
    need_flux()
    need_docker()
    need_registry()
    make = make_demo(lab_state, "PROVIDER=kwok", "CLUSTERS=1", "AGENT=flux")
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    assert "applied by Flux" in make.stdout and "put back by Flux" in make.stdout

    status = demo("agent", "status", state=lab_state)
    assert "Pull agents: Flux (pull mode)" in status.stdout and "running" in status.stdout
    assert "impersonate" in status.stdout  # what the controllers may do is shown
    # Right after the drift step Flux may still be reconciling (Ready: Unknown); it is level-
    # triggered, so it settles on True by itself.
    until(lambda: flux_ready(lab_state), "Flux's Kustomization to report Ready=True", 120)
    assert len(flux_processes(lab_state)) == 2  # the two controllers, found as this lab's

    stopped = demo("agent", "stop", state=lab_state)
    assert stopped.returncode == 0 and "push mode" in stopped.stdout
    cluster = Delivery(lab_at(lab_state, lambda m: None)).clusters[0]
    left = cluster.kubectl(
        "get", "-n", "shop", "-o", "name", "deployments,kustomizations,gitrepositories"
    )
    assert left.split() == ["deployment.apps/app"], left  # the app stays, Flux's objects go
    assert not flux_processes(lab_state), flux_processes(lab_state)


def flux_ready(state: Path) -> bool:
    """Whether `agent status --json` shows Flux running and Ready=True on every cluster."""
    agents = json.loads(demo("agent", "status", "--json", state=state).stdout)["agents"]
    return all(a["running"] and a["status"].get("ready") == "True" for a in agents)


def flux_processes(state: Path) -> list[str]:
    """Command lines of running Flux controllers of the lab state `state` (its folder is in
    their command line or their KUBECONFIG); another lab's on the machine are not this one's."""
    found = []
    for process in psutil.process_iter():
        try:
            command = process.cmdline()
            if not command or not command[0].endswith(FLUX_BINARIES):
                continue
            where = " ".join([*command, process.environ().get("KUBECONFIG", "")])
        except psutil.Error:
            continue
        if str(state) + os.sep in where:
            found.append(" ".join(command))
    return found


def test_minilab_tracks_run_on_kwok_what_needs_no_pod_and_say_why_they_skip_the_rest(lab_state):
    need_lab_tools()
    need_docker()
    need_registry()
    secrets = demo("lab", "--track", "secrets", "--provider", "kwok", "--yes", state=lab_state)
    assert secrets.returncode == 0, secrets.stdout[-3000:]
    out = secrets.stdout
    # Base64 decoded back, and the developer's token refused the Secret (a real 403).
    assert out.count("check: ok") == 2 and "get secret db -> 403, list pods -> 200" in out
    assert "base64 -d gives back: s3cret-" in out
    skipped = [line.strip() for line in out.splitlines() if line.startswith("    skipped: ")]
    assert len(skipped) == 3 and sum("needs real pods" in line for line in skipped) == 1
    assert "2 of 5 steps ran on kwok" in out
    services = demo("lab", "--track", "services", "--provider", "kwok", "--yes", state=lab_state)
    assert services.returncode == 0 and services.stdout.count("check: ok") == 1, services.stdout


def test_kubeconfig_points_every_kubectl_an_attendee_types_at_the_lab(lab_state, tmp_path):
    need_lab_tools()
    need_registry()
    none = demo("kubeconfig", state=lab_state)
    assert none.returncode == 1 and "no lab is up" in none.stderr and "make demo" in none.stderr
    up = demo("up", "--provider", "kwok", "--clusters", "2", state=lab_state)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]

    home = tmp_path / "home"  # the attendee's own ~/.kube/config stays as it was: absent
    home.mkdir()
    python = f"{sys.executable} -m demo"
    script = f"""
        set -e
        eval "$({python} kubeconfig)"
        command -v kubectl
        kubectl config current-context
        kubectl get namespace default -o name
        kubectl --context kwok-tellit-west get --raw /readyz; echo
        eval "$({python} kubeconfig --cluster west)"
        kubectl config current-context
    """
    # A home of its own, the machine's built tools (found through HOME otherwise).
    env = demo_env(lab_state) | {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "TELLIT_TOOLS": str(tools_dir()),
    }
    shell = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    kubectl, current, namespace, ready, west = shell.stdout.split()
    assert Path(kubectl) == Delivery(lab_at(lab_state)).clusters[0].kubectl_path
    assert (current, namespace, ready, west) == (
        "kwok-tellit-east", "namespace/default", "ok", "kwok-tellit-west",
    )  # fmt: skip
    assert "east = kwok-tellit-east, west = kwok-tellit-west" in shell.stderr
    assert not (home / ".kube" / "config").exists()  # (kubectl keeps its cache beside it)

    described = json.loads(demo("kubeconfig", "--json", state=lab_state).stdout)
    assert [c["context"] for c in described["clusters"]] == ["kwok-tellit-east", "kwok-tellit-west"]
    wrong = demo("kubeconfig", "--cluster", "north", state=lab_state)
    assert wrong.returncode == 1 and "no cluster named 'north'" in wrong.stderr
    assert "east, west" in wrong.stderr
