"""Our pull agent against Flux, in one run, on the same three kwok clusters and git server.

For each agent in turn (the other stopped): lead time from a config commit to the new image
in every cluster, polling every 5 s and woken by the hook (polling every 60 s); what polling
costs the git server while nothing changes (requests and bytes per cluster per minute, at a
2 s interval); memory and idle CPU of what runs per cluster; and how long a replica count
changed by hand stays changed. Flux is source-controller plus kustomize-controller (the lab's
webhook receiver, which stands in for notification-controller, is not counted). Medians with
spread over BENCH_AGENT_RUNS samples; the table is printed and written to
.artifacts/bench/agents.md.

Goals for ours, from the issue that brought Flux in: no slower than Flux on lead time, a
smaller idle poll, less than a quarter of its memory.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lightkube.resources.apps_v1 import Deployment

from benchmarks.delivery import ROOT, spread, step
from benchmarks.labs import quiet_lab
from benchmarks.report import SMOKE, publish, runs, verdict
from demo.delivery.lab_delivery import NAMESPACE, Delivery
from demo.experiments import footprint
from demo.experiments.measure import hook_run, kwok_lab, lead_times, pull_lead_times
from demo.kube.api import client

RUNS = runs("BENCH_AGENT_RUNS", 5)
POLLED_RUNS = 2 * RUNS
# Commits land at these offsets after the last apply, the same for both agents, so that both
# meet the same phases of their 5 s poll (a fixed seed: the same offsets every run).
_DRAW = random.Random(7)
OFFSETS = [_DRAW.uniform(0, 5) for _ in range(POLLED_RUNS)]
AGENTS = {"ours": "our agent", "flux": "Flux"}
IDLE_INTERVAL = 2  # seconds between polls while measuring the idle cost
# Seconds of idle polling, and of idle memory and CPU, measured (a smoke run: a few polls, the
# same code path, as every other smoke size is one run).
IDLE_WINDOW = 6 if SMOKE else 20
FOOTPRINT_WINDOW = 3 if SMOKE else 10


def idle_polls(lab: Delivery, kind: str) -> tuple[float, float, float]:
    """Requests and bytes per cluster per minute while idle, and bytes per request."""
    requests, wire = footprint.idle_polls(lab, kind, IDLE_INTERVAL, IDLE_WINDOW)
    return requests, wire, wire / max(1.0, requests)


def drift_repairs(lab: Delivery, count: int) -> list[float]:
    """Scale the app by hand in one cluster, right after the agent's last repair; time until
    it puts it back (about one interval: the next round)."""
    admin = client(lab.clusters[0], "kubectl-by-hand", namespace=NAMESPACE)
    samples = []
    for _ in range(count):
        admin.patch(Deployment, "app", {"spec": {"replicas": 5}})
        started = time.perf_counter()
        while admin.get(Deployment, "app").spec.replicas != 2:
            if time.perf_counter() - started > 120:
                raise RuntimeError("the replicas were not put back within 120 s")
            time.sleep(0.05)
        samples.append(time.perf_counter() - started)
    admin.close()
    return samples


def measure_agent(lab: Delivery, kind: str, images: list[str], work: Path) -> dict:
    name = AGENTS[kind]
    step(f"{name}: lead time polling every 5 s, no webhook ({POLLED_RUNS} commits)")
    lab.start_agents(interval=5, kind=kind)
    lab.mute_webhooks()
    pull_lead_times(lab, images, work, 1)  # the first apply of this agent is not a sample
    every, polled = lead_times(lab, images, work, POLLED_RUNS, OFFSETS)
    step(f"{name}: drift repair, polling every 5 s ({RUNS} times)")
    drift = drift_repairs(lab, RUNS)
    lab.stop_agents()
    step(f"{name}: lead time woken by the hook, polling every 60 s ({RUNS} commits)")
    lab.start_agents(interval=60, kind=kind)
    time.sleep(2)
    hooked = pull_lead_times(lab, images, work, RUNS)
    step(f"{name}: memory and CPU while idle ({FOOTPRINT_WINDOW} s)")
    rss, cpu = footprint.footprint(lab, kind, FOOTPRINT_WINDOW)
    lab.stop_agents()
    step(f"{name}: idle polling every {IDLE_INTERVAL} s ({IDLE_WINDOW} s)")
    requests, wire, per_request = idle_polls(lab, kind)
    return {
        "polled": polled,
        "every": every,
        "hooked": hooked,
        "drift": drift,
        "rss": rss,
        "cpu": cpu,
        "requests": requests,
        "wire": wire,
        "per_request": per_request,
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        try:
            return measure(Path(state))
        finally:
            subprocess.run([sys.executable, "-m", "demo", "down"], cwd=ROOT, capture_output=True)


def measure(root: Path) -> int:
    step("up (3 kwok clusters), a push, and a second image to switch between")
    lab, first = kwok_lab(quiet_lab(root))
    other = lab.commit_app("bench other", lambda f: (f / "NOTE").write_text("x\n"))
    images = [first.image, hook_run(root, other)["image"]]

    results = {kind: measure_agent(lab, kind, images, root / "bench-config") for kind in AGENTS}
    ours, flux = results["ours"], results["flux"]

    def versus(key: str, unit: str = "s", digits: int = 2) -> tuple[str, str, str]:
        a, b = statistics.median(ours[key]), statistics.median(flux[key])
        return (f"{a:.{digits}f} {unit}", f"{b:.{digits}f} {unit}", f"{a / b:.2f}x" if b else "")

    def one(key: str, unit: str, digits: int = 0) -> tuple[str, str, str]:
        a, b = ours[key], flux[key]
        return (f"{a:.{digits}f} {unit}", f"{b:.{digits}f} {unit}", f"{a / b:.2f}x" if b else "")

    rows = [
        ("lead time per cluster, polling every 5 s", *versus("polled"), "ours ≤ Flux"),
        ("lead time to all 3 clusters, polling every 5 s", *versus("every"), ""),
        ("lead time, woken by the hook", *versus("hooked"), "ours ≤ Flux"),
        # Each change lands just after the agent's last round (the last repair), so it waits
        # about a whole interval: not the drift experiment's change at a random moment.
        ("a change by hand just after a round, put back after (every 5 s)", *versus("drift"), ""),
        ("memory per cluster (RSS)", *versus("rss", "MiB", 0), "ours < 0.25x"),
        ("CPU per cluster while idle, 60 s interval", *versus("cpu", "%", 2), ""),
        (f"idle requests per cluster per minute ({IDLE_INTERVAL} s)", *one("requests", ""), ""),
        (
            f"idle bytes per cluster per minute ({IDLE_INTERVAL} s)",
            *one("wire", "B"),
            "ours < Flux",
        ),
        ("bytes per idle request", *one("per_request", "B"), ""),
    ]
    goals = {
        "lead time": all(
            statistics.median(ours[k]) <= statistics.median(flux[k]) for k in ("polled", "hooked")
        ),
        "idle poll": ours["wire"] < flux["wire"],
        "memory": statistics.median(ours["rss"]) < 0.25 * statistics.median(flux["rss"]),
    }
    units = {"rss": "MiB", "cpu": "%"}
    detail = {
        kind: {k: spread(v, units.get(k, "s")) for k, v in result.items() if isinstance(v, list)}
        for kind, result in results.items()
    }
    note = (
        f"{os.cpu_count()} cores, 3 kwok clusters; medians ({POLLED_RUNS} commits at the same"
        f" offsets for polled lead time, {RUNS} samples otherwise, memory and CPU per cluster)."
        " Goals met: "
        + ", ".join(f"{goal} {'yes' if met else 'NO'}" for goal, met in goals.items())
        + ". Spreads: "
        + "; ".join(
            f"{AGENTS[kind]} {key} {value}"
            for kind, found in detail.items()
            for key, value in found.items()
        )
    )
    publish("agents", ("measure", "our agent", "Flux", "ours / Flux", "goal"), rows, note)
    return verdict(not all(goals.values()))


if __name__ == "__main__":
    sys.exit(main())
