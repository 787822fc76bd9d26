"""kind benchmarks: the node image built and loaded, cluster create (1 and 3 in parallel),
memory per cluster, against kwok's on the same run.

Run with `make bench` after `make provision`. On a machine that cannot pull kindest/node the
node image is the one built here (`demo.clusters.kind.nodeimage`); the cold build runs once (it
takes minutes, with the Go-built tools cached), the rest are medians over runs. The table is printed
and written to .artifacts/bench/kind.md.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.lab import rss_mb
from benchmarks.labs import quiet_lab
from benchmarks.report import SMOKE, publish, runs
from demo.clusters import create_all, provider
from demo.clusters.kind import nodeimage
from demo.clusters.kind.provider import KindProvider
from demo.core import docker
from demo.core.paths import tools_dir
from demo.core.run import run
from demo.lab.teardown import down

RUNS = runs("BENCH_KIND_RUNS", 2)
# A smoke run creates one cluster of each, and leaves the node image as it is (its cold
# build takes minutes).
COUNTS = (1,) if SMOKE else (1, 3)
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def container_mib(container: str) -> float:
    """What the container uses now, as `docker stats` counts it (page cache excluded)."""
    usage = run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", container])
    match = re.match(r"([\d.]+)(\w+)", usage.strip())
    if not match:
        raise RuntimeError(f"docker stats said {usage!r}")
    return float(match.group(1)) * UNITS[match.group(2)] / 2**20


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def node_image_times() -> tuple[float, float, float]:
    """(cold build, load from the archive, size in MiB) of the local node image."""
    image = nodeimage.ensure(tools_dir(), log=lambda message: None)
    key = image.rsplit("-", 1)[1]
    archive = nodeimage.archive_path(key, tools_dir())
    aside = archive.with_name("bench-aside.tar")
    subprocess.run(["docker", "image", "rm", image], check=True, capture_output=True)
    archive.replace(aside)
    try:
        step("node image: cold build (tools cached)")
        cold = timed(lambda: nodeimage.ensure(tools_dir(), log=lambda message: None))
    finally:
        aside.replace(archive)  # the archive as it was: the same recipe, the same content
    subprocess.run(["docker", "image", "rm", image], check=True, capture_output=True)
    step("node image: load from the tools cache")
    warm = timed(lambda: nodeimage.ensure(tools_dir(), log=lambda message: None))
    return cold, warm, nodeimage.size_mib(image)


def one_run(name: str, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        owner = provider(name, quiet_lab(Path(state)))
        owner.prepare(lambda message: None)
        names = [f"bench{i}" for i in range(count)]
        created = timed(lambda: create_all(owner, names, progress=lambda message: None))
        time.sleep(5)  # let the components settle before reading their memory
        if isinstance(owner, KindProvider):
            memory = [sum(container_mib(node) for node in owner.nodes(n)) for n in names]
        else:
            memory = [rss_mb(owner.processes(n)) * 1e6 / 2**20 for n in names]
        left = down(quiet_lab(Path(state)))
        if left:
            raise RuntimeError(f"teardown left {left}")
    return {"create": created, "memory": statistics.median(memory)}


def main() -> int:
    if shutil.which("docker") is None:
        print("Docker is needed: run `make provision` first", file=sys.stderr)
        return 1
    local = not docker.image_exists(nodeimage.versions.KIND_NODE_IMAGE)
    rows = []
    if local and not SMOKE:
        cold, warm, size = node_image_times()
        rows += [
            ("node image, cold build (Go tools cached)", f"{cold:.0f} s", f"{size:.0f} MiB"),
            ("node image, loaded from the tools cache", f"{warm:.1f} s", ""),
        ]
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    for name in ("kind", "kwok"):
        for count in COUNTS:
            step(f"{count} {name} cluster(s): create, measure, tear down ({RUNS} runs)")
            results[name, count] = [one_run(name, count) for _ in range(RUNS)]

    def median(name: str, count: int, key: str) -> float:
        return statistics.median(r[key] for r in results[name, count])

    if SMOKE:  # one cluster each: no parallel creation, no ratio
        for name in ("kind", "kwok"):
            create, memory = median(name, 1, "create"), median(name, 1, "memory")
            rows += [(f"create 1 {name} cluster", f"{create:.1f} s", ""),
                     (f"memory of 1 {name} cluster", f"{memory:.0f} MiB", "")]  # fmt: skip
        publish("kind", ("measure", "median", "note"), rows, "a smoke run: 1 run, 1 cluster each")
        return 0
    for name in ("kind", "kwok"):
        ratio = median(name, 3, "create") / median(name, 1, "create")
        rows += [
            (f"create 1 {name} cluster", f"{median(name, 1, 'create'):.1f} s", ""),
            (
                f"create 3 {name} clusters in parallel",
                f"{median(name, 3, 'create'):.1f} s",
                f"{ratio:.1f}x one",
            ),
            (f"memory per {name} cluster", f"{median(name, 3, 'memory'):.0f} MiB", ""),
        ]
    kind_memory, kwok_memory = median("kind", 3, "memory"), median("kwok", 3, "memory")
    rows.append(("kind's memory against kwok's", f"{kind_memory / kwok_memory:.1f}x", ""))
    note = (
        f"{RUNS} runs each (the cold node image build once), {os.cpu_count()} cores;"
        f" node image {'built here' if local else 'published'}; kind memory is the node"
        " container's (docker stats), kwok's the RSS of its processes."
    )
    publish("kind", ("measure", "median", "note"), rows, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
