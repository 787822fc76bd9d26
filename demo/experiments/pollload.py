"""Polling load: what a fleet of idle pull agents costs the git server (and a registry polled
for new tags), as the fleet grows, at two intervals, and as the repository gains refs.

Each poller sends exactly what a real agent sends when nothing changed, on loopback:

- the lab's agent: one protocol v2 `ls-refs` of `refs/heads/main` (a POST), whose answer is one
  line whatever the repository holds;
- Flux (go-git): a GET of `info/refs` without the `Git-Protocol` header, so protocol v0, whose
  answer advertises every branch and tag;
- an image-update poller: a GET of the registry's tag list.

Pollers are spread evenly over the interval, as jitter spreads a real fleet. For each step the
git server's (or registry's) CPU, the requests it answered, the bytes on the wire and the
latency are recorded; a step where the server answers fewer than 95 % of the offered requests,
or where the slowest 5 % take longer than the interval, is where it saturates.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from demo.core.context import LabContext
from demo.core.git import WorkTree, author_env
from demo.delivery.agent.gitpoll import ls_refs_request
from demo.experiments.results import Result
from demo.services.git.server import GitServer
from demo.services.registry import LocalRegistry

NAME = "polling-load"
TITLE = "Polling load on the git server and the registry"
CLAIM = (
    "Polling loads git at scale: every agent asks again every interval, whether or not"
    " anything changed."
)
KINDS = {
    "ours": "the lab's agent (git protocol v2 ls-refs)",
    "flux": "Flux / go-git (git protocol v0 ref advertisement)",
    "registry": "image-update poller (registry tag list)",
}
WORKERS = 64  # requests in flight at most: a fleet's polls arrive spread, not all at once


@dataclass(frozen=True)
class Plan:
    pollers: tuple[int, ...]
    intervals: tuple[float, ...]
    refs: tuple[int, ...]  # tags in the repository, for the refs step
    refs_pollers: int
    window: float  # seconds each step is measured
    # Pollers of our agent's kind every second, each step more, until this machine (server
    # and load generator together: one machine is all there is) answers less than it is sent.
    limit: tuple[int, ...] = ()


PLANS = {
    "small": Plan(pollers=(1, 20), intervals=(5,), refs=(0, 200), refs_pollers=10, window=3),
    "full": Plan(
        pollers=(1, 10, 100, 300, 1000), intervals=(5, 60), refs=(0, 100, 1000),
        refs_pollers=100, window=20, limit=(250, 500, 1000),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One kind of poll: how to send it, and the process that answers it."""

    kind: str
    send: Callable[[requests.Session], requests.Response]
    server: psutil.Process


def git_targets(url: str, server: psutil.Process) -> list[Target]:
    body = ls_refs_request("refs/heads/main")
    v2 = {
        "Git-Protocol": "version=2",
        "Content-Type": "application/x-git-upload-pack-request",
        "Accept": "application/x-git-upload-pack-result",
    }

    def ours(session: requests.Session) -> requests.Response:
        return session.post(f"{url}/git-upload-pack", data=body, headers=v2, timeout=30)

    def flux(session: requests.Session) -> requests.Response:
        return session.get(f"{url}/info/refs?service=git-upload-pack", timeout=30)

    return [Target("ours", ours, server), Target("flux", flux, server)]


def registry_target(url: str, server: psutil.Process) -> Target:
    def tags(session: requests.Session) -> requests.Response:
        return session.get(f"{url}/v2/lab/app/tags/list", timeout=30)

    return Target("registry", tags, server)


def seed_registry(url: str, tags: int = 1) -> None:
    """`lab/app` in the registry with `tags` tags of one tiny image, pushed through the
    registry's API (an empty config and no layers: what is polled is the tag list)."""
    config = b"{}"
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    with requests.Session() as session:
        session.trust_env = False
        upload = session.post(f"{url}/v2/lab/app/blobs/uploads/", timeout=10)
        upload.raise_for_status()
        location = upload.headers["Location"]
        location = location if location.startswith("http") else url + location
        joiner = "&" if "?" in location else "?"
        done = session.put(f"{location}{joiner}digest={digest}", data=config, timeout=10)
        done.raise_for_status()
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digest, "size": len(config)},
            "layers": [],
        })  # fmt: skip
        for index in range(tags):
            session.put(
                f"{url}/v2/lab/app/manifests/v{index}",
                data=manifest,
                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                timeout=10,
            ).raise_for_status()


def cpu_seconds(process: psutil.Process) -> float:
    """CPU of the server and of the children it has reaped (git runs one per request)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def step(target: Target, pollers: int, interval: float, window: float) -> dict:
    """Offer `pollers / interval` requests a second for about `window` seconds (at least one
    request, evenly spaced as a jittered fleet's are); what it cost the server."""
    count = max(1, round(pollers * window / interval))
    spacing = interval / pollers
    span = count * spacing  # the time the offered requests cover, exactly
    latencies: list[float] = []
    wire: list[int] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def one(_: int) -> None:
        nonlocal errors
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
        started = time.perf_counter()
        try:
            answer = target.send(session)
            ok = answer.status_code == 200
            size = len(answer.content) + len(answer.request.body or b"")
        except requests.RequestException:
            ok, size = False, 0
        with lock:
            if ok:
                latencies.append(time.perf_counter() - started)
                wire.append(size)
            else:
                errors += 1

    cpu_before = cpu_seconds(target.server)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for index in range(count):
            delay = began + index * spacing - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, index)
        delay = began + span - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # the last request's share of the span
    elapsed = max(span, time.perf_counter() - began)
    cpu = cpu_seconds(target.server) - cpu_before
    answered = len(latencies)
    ordered = sorted(latencies) or [0.0]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    per_minute = 60 / elapsed
    return {
        "pollers": pollers,
        "interval": interval,
        "offered_per_minute": round(pollers * 60 / interval, 1),
        "requests_per_minute": round(answered * per_minute, 1),
        "bytes_per_minute": round(sum(wire) * per_minute),
        "bytes_per_request": round(statistics.median(wire)) if wire else 0,
        "cpu_percent": round(100 * cpu / elapsed, 1),
        "latency_median_ms": round(1000 * statistics.median(ordered), 1),
        "latency_p95_ms": round(1000 * p95, 1),
        "errors": errors,
        # Fewer answered than sent, slow answers, or not even sent at the rate offered (the
        # generator shares the machine): any of these is where this machine stops keeping up.
        "saturated": answered < 0.95 * count or p95 > interval or elapsed > 1.1 * span,
    }


def seed_repository(server: GitServer, work: Path, tags: int) -> None:
    """A config repository of one commit and `tags` tags (each tag is one more ref)."""
    env = author_env("experiment", "experiment@tellit.invalid")
    if (work / ".git").is_dir():
        tree = WorkTree(work, env)
    else:
        server.create_repo("config")
        tree = WorkTree.init(work, env)
        (work / "deploy").mkdir()
        (work / "deploy" / "app.yaml").write_text("kind: ConfigMap\n")
        tree.commit_all("one")
    existing = len(tree.git("tag").split())
    for index in range(existing, tags):
        tree.git("tag", f"v0.{index}")
    tree.push(server.push_url("config"), "main", "--tags")


def run_experiment(lab: LabContext, size: str) -> Result:
    root, progress = lab.state, lab.log
    plan = PLANS[size]
    result = Result(
        NAME,
        TITLE,
        CLAIM,
        "none",
        size,
        {
            "pollers": list(plan.pollers),
            "intervals_seconds": list(plan.intervals),
            "refs": list(plan.refs),
            "refs_pollers": plan.refs_pollers,
            "window_seconds": plan.window,
            "limit_pollers_every_second": list(plan.limit),
            "workers": WORKERS,
            "kinds": KINDS,
        },
        started=time.perf_counter(),
    )
    server = GitServer(lab)
    server.start()
    registry = LocalRegistry(root / "registry").start()
    try:
        seed_repository(server, root / "config-work", 0)
        seed_registry(registry.url)
        git_pid = psutil.Process(server.service.pid())
        registry_pid = psutil.Process(LocalRegistry(root / "registry").service.pid())
        targets = [*git_targets(server.url("config"), git_pid),
                   registry_target(registry.url, registry_pid)]  # fmt: skip
        for target in targets:
            for interval in plan.intervals:
                for pollers in plan.pollers:
                    progress(f"polling load: {pollers} x {target.kind}, every {interval:g} s")
                    found = step(target, pollers, interval, plan.window)
                    result.samples.append(
                        {"series": KINDS[target.kind], "kind": target.kind, "refs": 1, **found}
                    )
        for pollers in plan.limit:
            progress(f"polling load: {pollers} x ours every 1 s, looking for the limit")
            found = step(targets[0], pollers, 1, plan.window)
            result.samples.append({"series": KINDS["ours"], "kind": "ours", "refs": 1, **found})
            if found["saturated"]:
                break
        for refs in plan.refs:
            seed_repository(server, root / "config-work", refs)
            for target in targets[:2]:
                progress(f"polling load: {target.kind} with {refs + 1} refs")
                found = step(target, plan.refs_pollers, plan.intervals[0], plan.window)
                result.samples.append(
                    {"series": f"{KINDS[target.kind]}, as refs grow", "kind": target.kind,
                     "refs": refs + 1, **found}
                )  # fmt: skip
    finally:
        server.stop()
        LocalRegistry(root / "registry").stop()
    result.summary = [
        {
            "series": f"{KINDS[kind]}: bytes per idle poll",
            "unit": "B",
            "n": len(values),
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }
        for kind in KINDS
        if (values := [s["bytes_per_request"] for s in result.samples
                       if s["kind"] == kind and s["refs"] == 1 and s["bytes_per_request"]])
    ]  # fmt: skip
    return result
