"""Lead time: from a commit to the new version running in every cluster, push against pull.

Push is timed from the app commit (the hook starts the pipeline, which builds, publishes and
deploys) and, without the build, from the pipeline's start. Pull is timed from a commit to the
config repository that names the other of two images, until every cluster runs it, for each
poll interval and woken by the webhook; for the lab's agent and for Flux. Commits land at
random offsets after the last apply (the same for every series, from a fixed seed): a commit
made right after an apply would wait a whole interval every time.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.experiments.measure import hook_run, kwok_lab, lead_times
from demo.experiments.results import Result, summarise

NAME = "lead-time"
TITLE = "Lead time, commit to running in every cluster"
CLAIM = (
    "Push is fast: the pipeline deploys the moment it has built. Pull waits for the next"
    " poll, unless the git server's webhook wakes the agents."
)
AGENT_NAMES = {"ours": "the lab's agent", "flux": "Flux"}


@dataclass(frozen=True)
class Plan:
    clusters: int
    runs: int
    build_runs: int
    intervals: tuple[float, ...]
    agents: tuple[str, ...]


BOTH = ("ours", "flux")
PLANS = {
    "small": Plan(clusters=3, runs=2, build_runs=1, intervals=(2,), agents=BOTH),
    "full": Plan(clusters=3, runs=10, build_runs=10, intervals=(5, 15, 60), agents=BOTH),
}
WEBHOOK_INTERVAL = 300  # polls so rare while the webhook is measured that only it explains
SEED = 7


def run(context: LabContext, size: str, provider: str) -> Result:
    root, progress = context.state, context.log
    plan = PLANS[size]
    agents = plan.agents if provider == "kwok" else ("ours",)  # Flux's images need internet
    result = Result(
        NAME if provider == "kwok" else f"{NAME}-{provider}",  # kind's beside kwok's
        TITLE + ("" if provider == "kwok" else f" (on {provider}: real pods)"),
        CLAIM,
        provider,
        size,
        {
            "clusters": plan.clusters,
            "runs": plan.runs,
            "build_runs": plan.build_runs,
            "intervals_seconds": list(plan.intervals),
            "agents": list(agents),
            "webhook_poll_interval_seconds": WEBHOOK_INTERVAL,
            "offset_seed": SEED,
        },
        started=time.perf_counter(),
    )
    progress(f"lead time: {plan.clusters} {provider} clusters and a first push")
    lab, first = kwok_lab(context, plan.clusters, provider)
    samples = result.samples

    progress(f"lead time: push with the image build ({plan.build_runs} app commits)")
    image = first.image
    for index in range(plan.build_runs):
        started = time.perf_counter()
        commit = lab.commit_app(
            f"experiment {index}", lambda f, i=index: (f / "NOTE").write_text(f"{i}\n")
        )
        record = hook_run(root, commit)
        seconds = time.perf_counter() - started
        image = record["image"]
        samples.append(push_sample("push, with the image build", index, seconds, build=True))

    progress(f"lead time: push without the build ({plan.runs} runs)")
    # Each run delivers the other of two built versions: pushing what already runs would
    # time an apply that changes nothing and a rollout that is already done.
    commits = [first.commit, lab.head("app")]
    for index in range(plan.runs):
        started = time.perf_counter()
        record = lab.push(commits[index % 2], build=False)
        if not record.ok:
            failed = "; ".join(f"{c.cluster}: {c.error}" for c in record.clusters if not c.ok)
            raise LabError(
                f"the pipeline failed in run {index + 1} without the build: {failed or 'a stage'}"
            )
        samples.append(
            push_sample("push, without the build", index, time.perf_counter() - started, False)
        )
    images = [first.image, image if image != first.image else record.image]

    work = root / "experiment-config"
    for agent in agents:
        name = AGENT_NAMES[agent]
        for interval in plan.intervals:
            progress(f"lead time: pull by {name}, polling every {interval:g} s ({plan.runs})")
            lab.start_agents(interval=interval, kind=agent)
            lab.mute_webhooks()
            lead_times(lab, images, work, 1)  # the first apply after a start is no sample
            offsets = [random.Random(SEED + i).uniform(0, interval) for i in range(plan.runs)]
            every, each = lead_times(lab, images, work, plan.runs, offsets)
            series = f"pull ({name}), polling every {interval:g} s"
            samples += pull_samples(series, agent, "poll", interval, every, each, plan.clusters)
            lab.stop_agents()
        progress(f"lead time: pull by {name}, woken by the webhook ({plan.runs})")
        lab.start_agents(interval=WEBHOOK_INTERVAL, kind=agent)
        lead_times(lab, images, work, 1)
        every, each = lead_times(lab, images, work, plan.runs)
        series = f"pull ({name}), woken by the webhook"
        samples += pull_samples(series, agent, "webhook", WEBHOOK_INTERVAL, every, each,
                                plan.clusters)  # fmt: skip
        lab.stop_agents()
    everywhere = [s for s in samples if s["scope"] == "every cluster"]
    result.summary = summarise(everywhere, "seconds", "s")
    return result


def push_sample(series: str, index: int, seconds: float, build: bool) -> dict:
    return {
        "series": series,
        "model": "push",
        "agent": "pipeline",
        "trigger": "commit",
        "build": build,
        "scope": "every cluster",
        "run": index,
        "seconds": round(seconds, 3),
    }


def pull_samples(
    series: str,
    agent: str,
    trigger: str,
    interval: float,
    every: list[float],
    each: list[float],
    clusters: int,
) -> list[dict]:
    """Samples to every cluster (one per commit) and to each cluster (one per cluster)."""
    common = {"series": series, "model": "pull", "agent": agent, "trigger": trigger,
              "interval": interval}  # fmt: skip
    found = [
        {**common, "scope": "every cluster", "run": i, "seconds": round(s, 3)}
        for i, s in enumerate(every)
    ]
    found += [
        {**common, "scope": "one cluster", "run": i // clusters, "seconds": round(s, 3)}
        for i, s in enumerate(each)
    ]
    return found
