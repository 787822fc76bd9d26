"""Propagation and drift: a cluster that was down during a rollout, and a change made by hand.

For each model on the same kwok clusters: one cluster is taken down (every component of it
stops, as in an outage), a new version is delivered, the cluster comes back, and the
experiment waits to see whether, and after how long, it runs the new version; then someone
scales the app by hand in another cluster, and the same question is asked of the replica
count. Push is the pipeline (which deploys once per run); pull is the lab's agent and Flux.
A wait that ends without a repair is recorded as not repaired, with how long was waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.waits import TimedOut, until
from demo.delivery.lab_delivery import NAMESPACE, Delivery
from demo.experiments.leadtime import AGENT_NAMES
from demo.experiments.measure import commit_config, hook_run, kwok_lab, live_image
from demo.experiments.results import Result
from demo.kube.api import client

NAME = "propagation-drift"
TITLE = "A cluster down during a rollout, and a change made by hand"
CLAIM = (
    "Push must reach every environment when it runs: a cluster that was down, or changed by"
    " hand, stays wrong until the next run. Pull agents put both right on their own."
)
REPLICAS = 2  # what git says


@dataclass(frozen=True)
class Plan:
    runs: int
    interval: float  # the pull agents' poll interval
    wait: float  # how long to wait for a repair before calling it not repaired


PLANS = {
    "small": Plan(runs=1, interval=2, wait=8),
    "full": Plan(runs=3, interval=5, wait=30),
}


def run(context: LabContext, size: str, provider: str) -> Result:
    root, progress = context.state, context.log
    if provider != "kwok":
        raise LabError(
            "the propagation experiment takes clusters down, which the lab does on kwok only",
            "run it with --provider kwok",
        )
    plan = PLANS[size]
    result = Result(
        NAME, TITLE, CLAIM, provider, size,
        {"clusters": 3, "runs": plan.runs, "interval_seconds": plan.interval,
         "wait_seconds": plan.wait, "models": ["push", "ours", "flux"]},
        started=time.perf_counter(),
    )  # fmt: skip
    progress("propagation: 3 kwok clusters, a first push, and a second image")
    lab, first = kwok_lab(context, 3, provider)
    other = lab.commit_app("experiment: a second image", lambda f: (f / "NOTE").write_text("2\n"))
    second = hook_run(root, other)
    commits = {first.image: first.commit, second["image"]: other}
    images = list(commits)
    outage, touched = lab.clusters[-1], lab.clusters[0]
    work = root / "experiment-config"
    for index in range(plan.runs):
        progress(f"propagation: push, run {index + 1} of {plan.runs}")
        result.samples += push_round(lab, commits, outage.name, touched.name, plan, index, progress)
    for agent in ("ours", "flux"):
        lab.start_agents(interval=plan.interval, kind=agent)
        lab.mute_webhooks()  # polling alone: a missed webhook is what an outage also means
        for index in range(plan.runs):
            progress(f"propagation: pull by {AGENT_NAMES[agent]}, run {index + 1}")
            result.samples += pull_round(
                lab, agent, images, work, outage.name, touched.name, plan, index, progress
            )
        lab.stop_agents()
    repaired = [s for s in result.samples if s["repaired"]]
    by_series: dict[str, list[float]] = {}
    for sample in result.samples:
        by_series.setdefault(sample["series"], [])
    for sample in repaired:
        by_series[sample["series"]].append(sample["seconds"])
    result.summary = [
        {
            "series": series,
            "unit": "s",
            "n": len([s for s in result.samples if s["series"] == series]),
            "repaired": len(values),
            "median": round(sorted(values)[len(values) // 2], 3) if values else plan.wait,
            "min": round(min(values), 3) if values else plan.wait,
            "max": round(max(values), 3) if values else plan.wait,
        }
        for series, values in by_series.items()
    ]
    return result


def _api(lab: Delivery, name: str):
    cluster = next(c for c in lab.clusters if c.name == name)
    return client(cluster, "kubectl-by-hand", namespace=NAMESPACE)


def _wait_for(check: Callable[[], bool], wait: float) -> float | None:
    """Seconds until `check()` holds, or None if it did not within `wait`."""
    started = time.perf_counter()

    def holds() -> bool:
        try:
            return check()
        except (ApiError, httpx2.HTTPError, LabError, OSError):
            return False  # a cluster coming back refuses for a moment

    try:
        until(holds, "the clusters to match git", wait, every=0.1)
    except TimedOut:
        return None  # not within the wait: the sample says so
    return time.perf_counter() - started


def _sample(model: str, agent: str, case: str, index: int, seconds: float | None, wait: float):
    what = {"outage": "a cluster down during the rollout", "drift": "a change made by hand"}
    name = "push (pipeline)" if model == "push" else f"pull ({AGENT_NAMES[agent]})"
    return {
        "series": f"{name}: {what[case]}",
        "model": model,
        "agent": agent,
        "case": case,
        "run": index,
        "repaired": seconds is not None,
        "seconds": round(seconds if seconds is not None else wait, 3),
    }


def push_round(
    lab, commits, outage: str, touched: str, plan: Plan, index: int, progress
) -> list[dict]:
    """Push everywhere; scale by hand in one cluster and wait; then push a new version while
    another cluster is down, bring it back and wait. (No run afterwards puts things right:
    the next round's first push does, after the measuring.)"""
    images = list(commits)
    current = live_image(_api(lab, outage))
    target = images[1] if current == images[0] else images[0]
    lab.push(commits[current], build=False)  # every cluster at the same version first
    progress(f"propagation: {touched} scaled by hand; waiting up to {plan.wait:g} s")
    touched_api = _api(lab, touched)
    touched_api.patch(Deployment, "app", {"spec": {"replicas": 5}})
    seconds = _wait_for(
        lambda: touched_api.get(Deployment, "app").spec.replicas == REPLICAS, plan.wait
    )
    samples = [_sample("push", "pipeline", "drift", index, seconds, plan.wait)]
    owner = lab.owner
    if not owner.info.stops:
        raise LabError(
            f"the {owner.name} provider cannot stop a cluster for the outage",
            "run the propagation experiment on kwok (EXPERIMENT_PROVIDER=kwok)",
        )
    progress(f"propagation: {outage} down, the pipeline delivers a new version")
    owner.stop(outage)
    try:
        record = lab.push(commits[target], build=False)
    finally:
        owner.start(outage)
    if record.ok:
        raise LabError(f"the pipeline reached {outage}, which was down: the outage did not hold")
    progress(f"propagation: {outage} back; waiting up to {plan.wait:g} s for the new version")
    api = _api(lab, outage)
    seconds = _wait_for(lambda: live_image(api) == target, plan.wait)
    samples.append(_sample("push", "pipeline", "outage", index, seconds, plan.wait))
    return samples


def pull_round(
    lab, agent: str, images, work, outage: str, touched: str, plan: Plan, index: int, progress
) -> list[dict]:
    owner = lab.owner  # kwok's provider: it stops and starts its clusters
    progress(f"propagation: {outage} down, a new version committed to git")
    owner.stop(outage)
    try:
        target = commit_config(lab, work, images)
        for cluster in lab.clusters:
            if cluster.name != outage:
                api = client(cluster, "experiment", namespace=NAMESPACE)
                _wait_for(lambda api=api: live_image(api) == target, 120)
    finally:
        owner.start(outage)
    progress(f"propagation: {outage} back; waiting up to {plan.wait:g} s for its agent")
    api = _api(lab, outage)
    seconds = _wait_for(lambda: live_image(api) == target, plan.wait)
    samples = [_sample("pull", agent, "outage", index, seconds, plan.wait)]
    touched_api = _api(lab, touched)
    touched_api.patch(Deployment, "app", {"spec": {"replicas": 5}})
    seconds = _wait_for(
        lambda: touched_api.get(Deployment, "app").spec.replicas == REPLICAS, plan.wait
    )
    samples.append(_sample("pull", agent, "drift", index, seconds, plan.wait))
    return samples
