"""Delivery benchmarks on kwok: push and pull lead times, the agent's footprint, an idle poll.

Medians with spread (min to max) over BENCH_DELIVERY_RUNS samples each, against issue 7's
targets on 2 cores. Lead time is from the commit landing in git to the new digest running
in every cluster (the Deployment's new ReplicaSet available). The table is printed and
written to .artifacts/bench/delivery.md.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.labs import quiet_lab
from benchmarks.report import publish, runs
from demo.experiments.measure import hook_run, kwok_lab, pull_lead_times
from demo.services.background import Service

ROOT = Path(__file__).resolve().parent.parent
RUNS = runs("BENCH_DELIVERY_RUNS", 5)
TARGETS = {"up": 20.0, "push": 5.0, "webhook": 1.0, "rss": 60.0, "poll": 1024}


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def spread(samples: list[float], unit: str = "s") -> str:
    return (
        f"{statistics.median(samples):.2f} {unit}"
        f" ({min(samples):.2f} to {max(samples):.2f}, {len(samples)} runs)"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        root = Path(state)
        try:
            return measure(root)
        finally:
            subprocess.run([sys.executable, "-m", "demo", "down"], cwd=ROOT, capture_output=True)


def measure(root: Path) -> int:
    step("up (3 kwok clusters) and the first push")
    started = time.perf_counter()
    lab, _ = kwok_lab(quiet_lab(root))
    up_and_push = time.perf_counter() - started

    step(f"push lead time with the image build ({RUNS} commits through the hook)")
    with_build = []
    for index in range(RUNS):
        started = time.perf_counter()
        commit = lab.commit_app(
            f"bench {index}", lambda f, i=index: (f / "NOTE").write_text(f"{i}\n")
        )
        hook_run(root, commit)
        with_build.append(time.perf_counter() - started)

    step(f"push lead time without the build ({RUNS} runs)")
    without_build = []
    head = lab.head("app")
    for _ in range(RUNS):
        started = time.perf_counter()
        record = lab.push(head, build=False)
        without_build.append(time.perf_counter() - started)
        assert record.ok
    images = [record.image]
    other = lab.commit_app("bench other", lambda f: (f / "NOTE").write_text("x\n"))
    images.append(hook_run(root, other)["image"])

    work = root / "bench-config"
    results = {}
    for interval in (5, 15):
        step(f"pull lead time, polling every {interval} s, no webhook ({RUNS} commits)")
        lab.start_agents(interval=interval)
        lab.mute_webhooks()
        results[interval] = pull_lead_times(lab, images, work, RUNS)
        lab.stop_agents()
    step(f"pull lead time woken by the webhook ({RUNS} commits, polling every 60 s)")
    lab.start_agents(interval=60)
    time.sleep(2)
    webhook = pull_lead_times(lab, images, work, RUNS)

    step("the agents' footprint while idle (10 s)")
    agents = [
        psutil.Process(Service.named(f"agent-{c.name}", root / "services").pid())
        for c in lab.clusters
    ]
    for process in agents:
        process.cpu_percent(None)
    time.sleep(10)
    cpu = [p.cpu_percent(None) for p in agents]
    rss = [p.memory_info().rss / 2**20 for p in agents]
    lab.stop_agents()
    lab.start_agents(interval=1)
    time.sleep(6)
    polls = sum(
        a.method == "POST" and a.path.endswith("git-upload-pack") for a in lab.git.accesses()[-30:]
    )
    idle = [a for a in lab.git.accesses()[-10:] if a.path.endswith("git-upload-pack")]
    wire = statistics.median(a.bytes_in + a.bytes_out for a in idle) if idle else 0
    lab.stop_agents()

    rows = [
        ("3 kwok clusters up, first push done", f"{up_and_push:.1f} s", f"≤ {TARGETS['up']:.0f} s"),
        ("push lead time, with the image build", spread(with_build), ""),
        ("push lead time, without the build", spread(without_build), f"≤ {TARGETS['push']:.0f} s"),
        ("pull lead time, polling every 5 s", spread(results[5]), "≤ 7 s"),
        ("pull lead time, polling every 15 s", spread(results[15]), "≤ 17 s"),
        ("pull lead time, woken by the webhook", spread(webhook), f"≤ {TARGETS['webhook']:.0f} s"),
        ("agent RSS", spread(rss, "MiB"), f"≤ {TARGETS['rss']:.0f} MiB"),
        ("agent CPU while idle (polling every 60 s)", spread(cpu, "%"), ""),
        ("one idle poll: ls-refs body in and out", f"{wire:.0f} bytes", ""),
    ]
    note = f"{os.cpu_count()} cores, kwok clusters, {polls} polls seen in the last log lines."
    publish("delivery", ("measure", "median (spread)", "target"), rows, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
