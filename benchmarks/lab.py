"""Lab benchmarks: kwok cluster create (1 and 3 in parallel), teardown, memory per cluster.

Run with `make bench` after `make provision`. Each run gets a lab state folder of its own and
removes it. Medians over runs; the table is printed and written to .artifacts/bench/lab.md.
"""

from __future__ import annotations

import contextlib
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
from demo.clusters import create_all, provider
from demo.core.paths import tools_dir
from demo.lab.teardown import down
from demo.toolchain import provision

ROOT = Path(__file__).resolve().parent.parent
RUNS = runs("BENCH_LAB_RUNS", 3)


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 1e6


def one_run(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        kwok = provider("kwok", quiet_lab(Path(state)))
        names = [f"bench{i}" for i in range(count)]
        started = time.perf_counter()
        create_all(kwok, names, progress=lambda message: None)
        created = time.perf_counter() - started
        time.sleep(2)  # let the components settle before reading their memory
        memory = [rss_mb(kwok.processes(name)) for name in names]
        started = time.perf_counter()
        left = down(quiet_lab(Path(state)))
        removed = time.perf_counter() - started
        if left:
            raise RuntimeError(f"teardown left {left}")
    return {"create": created, "teardown": removed, "memory": statistics.median(memory)}


def command_run() -> dict[str, float]:
    """What a reader waits for: `python -m demo up` (3 clusters and the services), then down."""
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as state:
        env = {**os.environ, "TELLIT_LAB_STATE": state}
        timings = {}
        for name, args in (
            ("up", ["up", "--provider", "kwok", "--clusters", "3"]),
            ("down", ["down"]),
        ):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "demo", *args],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            timings[name] = time.perf_counter() - started
    return timings


def main() -> int:
    if provision.missing(tools_dir()):
        print("the lab's tools are missing: run `make provision` first", file=sys.stderr)
        return 1
    started = time.perf_counter()
    provision.ensure(tools_dir(), log=lambda message: None)
    warm_provision = time.perf_counter() - started
    results: dict[int, list[dict[str, float]]] = {}
    for count in (1, 3):
        step(f"{count} kwok cluster(s): create, measure, tear down ({RUNS} runs)")
        results[count] = [one_run(count) for _ in range(RUNS)]

    step(f"python -m demo up, then down ({RUNS} runs)")
    commands = [command_run() for _ in range(RUNS)]

    def median(count: int, key: str) -> float:
        return statistics.median(r[key] for r in results[count])

    ratio = median(3, "create") / median(1, "create")
    rows = [
        ("provision, warm (all tools cached)", f"{warm_provision:.2f} s"),
        ("create 1 kwok cluster (2 nodes, Ready)", f"{median(1, 'create'):.1f} s"),
        ("create 3 kwok clusters in parallel", f"{median(3, 'create'):.1f} s ({ratio:.1f}x one)"),
        ("teardown of 1 cluster (make demo-down)", f"{median(1, 'teardown'):.1f} s"),
        ("teardown of 3 clusters", f"{median(3, 'teardown'):.1f} s"),
        ("memory per cluster (RSS of its 5 processes)", f"{median(3, 'memory'):.0f} MB"),
        (
            "`python -m demo up` (3 clusters, registry, git server)",
            f"{statistics.median(c['up'] for c in commands):.1f} s",
        ),
        (
            "`python -m demo down` of that",
            f"{statistics.median(c['down'] for c in commands):.1f} s",
        ),
    ]
    note = f"{RUNS} runs each, {os.cpu_count()} cores, Kubernetes from demo/core/versions.py."
    publish("lab", ("measure", "median"), rows, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
