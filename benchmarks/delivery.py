"""Delivery benchmarks on kwok: push and pull lead times, the agent's footprint, an idle poll.

Medians with spread (min to max) over BENCH_DELIVERY_RUNS samples each, against issue 7's
targets on 2 cores. Lead time is from the commit landing in git to the new digest running
in every cluster (the Deployment's new ReplicaSet available). The table is printed and
written to .artifacts/bench/delivery.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from lightkube.resources.apps_v1 import Deployment

from benchmarks.report import publish
from demo.delivery import CONFIG_REPO, NAMESPACE, Delivery, webhook_url
from demo.kubeapi import client
from demo.pipeline import RunRecord, wait_rollout
from demo.run import git_env
from demo.services import Service

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_DELIVERY_RUNS", "5"))
TARGETS = {"up": 20.0, "push": 5.0, "webhook": 1.0, "rss": 60.0, "poll": 1024}


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def spread(samples: list[float], unit: str = "s") -> str:
    return (
        f"{statistics.median(samples):.2f} {unit}"
        f" ({min(samples):.2f} to {max(samples):.2f}, {len(samples)} runs)"
    )


def all_running(apis: list, image: str) -> None:
    for api in apis:
        wait_rollout(api, NAMESPACE, image)


def commit_config(lab: Delivery, work: Path, images: list[str]) -> str:
    """A commit to the config repository that only swaps the image for the other one (what
    the agents see); the image it now names."""
    env = git_env("bench", "bench@tellit.invalid")
    if not work.exists():
        subprocess.run(["git", "clone", "-q", lab.url(CONFIG_REPO), str(work)], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "pull", "-q", "--rebase"], check=True, env=env)
    manifest = work / "deploy" / "app.yaml"
    image = images[1] if images[0] in manifest.read_text() else images[0]
    lines = [
        f"        image: {image}" if line.strip().startswith("image:") else line
        for line in manifest.read_text().splitlines()
    ]
    manifest.write_text("\n".join(lines) + "\n")
    subprocess.run(["git", "-C", str(work), "commit", "-qam", "bench"], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(work), "push", "-q", lab.url(CONFIG_REPO, token=True), "HEAD:main"],
        check=True,
        env=env,
    )
    return image


def pull_lead_times(
    lab: Delivery, images: list[str], work: Path, count: int, offsets: list[float] | None = None
) -> list[float]:
    """Commit a new image to the config repository; time until every cluster runs it."""
    return lead_times(lab, images, work, count, offsets)[0]


def lead_times(
    lab: Delivery, images: list[str], work: Path, count: int, offsets: list[float] | None = None
) -> tuple[list[float], list[float]]:
    """Commit a new image to the config repository, `count` times: how long until every
    cluster runs it, and how long until each cluster applied it (one sample per cluster).

    `offsets`, when given, are seconds to wait before each commit: a commit made right after
    the last apply lands just after a poll and waits a whole interval, every time.
    """
    apis = [client(c, "bench", namespace=NAMESPACE) for c in lab.clusters]
    every, each = [], []
    for index in range(count):
        if offsets:
            time.sleep(offsets[index % len(offsets)])
        started = time.perf_counter()
        image = commit_config(lab, work, images)
        deadline = started + 120
        pending = list(apis)
        while pending:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{len(pending)} cluster(s) did not get {image} in 120 s")
            done = [api for api in pending if live_image(api) == image]
            each += [time.perf_counter() - started] * len(done)
            pending = [api for api in pending if api not in done]
            time.sleep(0.05)
        all_running(apis, image)
        every.append(time.perf_counter() - started)
    for api in apis:
        api.close()
    return every, each


def live_image(api) -> str:
    deployment = api.get(Deployment, "app", namespace=NAMESPACE)
    return deployment.spec.template.spec.containers[0].image


def hook_run(root: Path, commit: str) -> dict:
    """The record of the pipeline run the app repository's hook started for `commit`."""
    deadline = time.perf_counter() + 300
    while not (found := list((root / "runs").glob(f"*-{commit[:12]}.json"))):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the hook's pipeline run of {commit[:12]} did not finish")
        time.sleep(0.05)
    time.sleep(0.1)  # written atomically, but let the run's process finish its last log line
    return json.loads(found[0].read_text())


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        root = Path(state)
        try:
            return measure(root)
        finally:
            subprocess.run([sys.executable, "-m", "demo", "down"], cwd=ROOT, capture_output=True)


def kwok_lab(root: Path) -> tuple[Delivery, RunRecord]:
    """Three kwok clusters up in the lab state `root`, and the app pushed to them."""
    subprocess.run(
        [sys.executable, "-m", "demo", "up", "--provider", "kwok", "--clusters", "3"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    lab = Delivery(root, log=lambda message: None)
    lab.prepare()
    first = lab.push()
    assert first.ok, first
    return lab, first


def measure(root: Path) -> int:
    step("up (3 kwok clusters) and the first push")
    started = time.perf_counter()
    lab, _ = kwok_lab(root)
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
        for info in lab.agents():
            lab.git.unsubscribe(CONFIG_REPO, webhook_url(info.webhook_port))
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
