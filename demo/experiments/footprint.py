"""Agent footprint: what a pull agent costs each cluster, and the git server, while nothing
changes.

The lab's agent and Flux (source- plus kustomize-controller; the lab's webhook receiver,
which stands in for notification-controller, is not counted) run in turn on the same three
kwok clusters. For each: the memory (RSS) and CPU of what runs per cluster while idle at a
60 s interval, then the requests and bytes (in and out) per cluster per minute that the git
server's access log records while the agents poll every 2 s and nothing changes.
Lead times and repairs are the lead-time and propagation-drift experiments' to measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.delivery.lab_delivery import CONFIG_REPO, Delivery
from demo.experiments.leadtime import AGENT_NAMES
from demo.experiments.measure import kwok_lab
from demo.experiments.results import Result, summarise
from demo.services.background import Service

NAME = "agent-footprint"
TITLE = "What a pull agent costs per cluster while nothing changes"
CLAIM = (
    "An agent in every cluster is not free: it takes memory and CPU in each cluster, and its"
    " polls cost the git server requests and bytes even when nothing changed."
)
AGENTS = AGENT_NAMES


@dataclass(frozen=True)
class Plan:
    cpu_window: float  # seconds of idle CPU measured
    poll_interval: float  # seconds between polls while the idle polls are counted
    poll_window: float  # seconds of idle polling counted


PLANS = {
    "small": Plan(cpu_window=4, poll_interval=2, poll_window=8),
    "full": Plan(cpu_window=10, poll_interval=2, poll_window=20),
}


def processes(lab: Delivery, kind: str) -> list[list[psutil.Process]]:
    """Per cluster, the processes that make up the agent."""
    services = lab.root / "services"
    parts = ("source-controller", "kustomize-controller") if kind == "flux" else ("",)
    found = []
    for cluster in lab.clusters:
        names = [f"flux-{p}-{cluster.name}" if kind == "flux" else f"agent-{cluster.name}"
                 for p in parts]  # fmt: skip
        found.append([psutil.Process(Service.named(n, services).pid()) for n in names])
    return found


def footprint(lab: Delivery, kind: str, window: float) -> tuple[list[float], list[float]]:
    """RSS (MiB) and CPU (% of one core over `window` seconds) per cluster, while idle."""
    groups = processes(lab, kind)
    for group in groups:
        for process in group:
            process.cpu_percent(None)
    time.sleep(window)
    cpu = [sum(p.cpu_percent(None) for p in group) for group in groups]
    rss = [sum(p.memory_info().rss for p in group) / 2**20 for group in groups]
    return rss, cpu


def idle_polls(lab: Delivery, kind: str, interval: float, window: float) -> tuple[float, float]:
    """Requests and bytes (in and out) per cluster per minute, from the git server's access
    log, while the agents poll every `interval` and nothing changes."""
    lab.start_agents(interval=interval, kind=kind)
    lab.mute_webhooks()
    time.sleep(interval * 2)  # past the first full fetch
    since = time.time()
    time.sleep(window)
    seen = [a for a in lab.git.accesses() if a.time >= since and CONFIG_REPO in a.path]
    lab.stop_agents()
    per_minute = 60 / window / len(lab.clusters)
    return len(seen) * per_minute, sum(a.bytes_in + a.bytes_out for a in seen) * per_minute


def run(context: LabContext, size: str, provider: str) -> Result:
    progress = context.log
    if provider != "kwok":
        raise LabError(f"the {NAME} experiment runs on kwok", "run it with --provider kwok")
    plan = PLANS[size]
    result = Result(
        NAME, TITLE, CLAIM, provider, size,
        {"clusters": 3, "idle_interval_seconds": 60, "cpu_window_seconds": plan.cpu_window,
         "poll_interval_seconds": plan.poll_interval, "poll_window_seconds": plan.poll_window,
         "agents": AGENTS},
        started=time.perf_counter(),
    )  # fmt: skip
    progress(f"{NAME}: 3 kwok clusters and a first push")
    lab, _ = kwok_lab(context, 3, provider)
    for kind, name in AGENTS.items():
        progress(f"{NAME}: {name}, memory and CPU while idle ({plan.cpu_window:g} s)")
        lab.start_agents(interval=60, kind=kind)
        lab.mute_webhooks()
        time.sleep(2)  # past the first apply
        rss, cpu = footprint(lab, kind, plan.cpu_window)
        lab.stop_agents()
        progress(f"{NAME}: {name}, idle polls every {plan.poll_interval:g} s")
        requests, wire = idle_polls(lab, kind, plan.poll_interval, plan.poll_window)
        for cluster, memory, share in zip(lab.clusters, rss, cpu, strict=True):
            result.samples += [
                {"series": f"{name}: memory per cluster", "agent": kind,
                 "cluster": cluster.name, "value": round(memory, 1)},
                {"series": f"{name}: CPU per cluster while idle", "agent": kind,
                 "cluster": cluster.name, "value": round(share, 2)},
            ]  # fmt: skip
        result.samples += [
            {"series": f"{name}: idle requests per cluster per minute", "agent": kind,
             "cluster": "each", "value": round(requests, 1)},
            {"series": f"{name}: idle bytes per cluster per minute", "agent": kind,
             "cluster": "each", "value": round(wire)},
        ]  # fmt: skip
    units = {"memory": "MiB", "CPU": "%", "requests": "requests", "bytes": "B"}
    for row in summarise(result.samples, "value", ""):
        row["unit"] = next(u for word, u in units.items() if word in row["series"])
        result.summary.append(row)
    return result
