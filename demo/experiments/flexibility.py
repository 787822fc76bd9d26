"""Flexibility: push delivers to a target that is not Kubernetes, in the same pipeline run.

Three kwok clusters and one plain Docker host (`demo.delivery.dockerhost`: the app as a container on
this machine's Docker, on the lab's network, published on 127.0.0.1). Each run, the pipeline
deploys the other of two app versions to all four; the experiment times each target's deploy
and checks, over HTTP, that the host really serves the new version. Pull has nothing to offer
that host until an agent runs on it: what that agent would need is recorded with the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.delivery.dockerhost import DockerHost, answers
from demo.experiments.measure import hook_run, kwok_lab
from demo.experiments.results import Result, summarise

NAME = "flexibility"
TITLE = "Push to a target that is not Kubernetes"
CLAIM = (
    "Push can deliver to anything the pipeline can reach (a VM, a Docker host, a serverless"
    " function); pull needs an agent that runs on the target and understands it."
)
HOST = "vm-1"
PULL_WOULD_NEED = [
    "an agent process on the host, started at boot and kept running (systemd or similar)",
    "the Docker engine's socket, which is root on that host (the pipeline needs the same)",
    "read access to the config repository, and a format for a container that is not a"
    " Kubernetes manifest (a Compose file, say), which the lab's agent does not read",
    "its own drift check: comparing the running container with what git names",
]


@dataclass(frozen=True)
class Plan:
    runs: int


PLANS = {"small": Plan(runs=2), "full": Plan(runs=10)}


def run(context: LabContext, size: str, provider: str) -> Result:
    root, progress = context.state, context.log
    if provider != "kwok":
        raise LabError("the flexibility experiment runs on kwok", "run it with --provider kwok")
    plan = PLANS[size]
    result = Result(
        NAME, TITLE, CLAIM, provider, size,
        {"clusters": 3, "docker_hosts": 1, "runs": plan.runs,
         "pull_would_need": PULL_WOULD_NEED},
        started=time.perf_counter(),
    )  # fmt: skip
    progress("flexibility: 3 kwok clusters, a first push, and a second version")
    lab, first = kwok_lab(context, 3, provider)
    other = lab.commit_app("experiment: a second version", lambda f: (f / "NOTE").write_text("2"))
    hook_run(root, other)
    commits = [first.commit, other]
    host = DockerHost(HOST, root)
    for index in range(plan.runs):
        commit = commits[index % 2]
        progress(f"flexibility: push to 3 clusters and {host.label}, run {index + 1}")
        started = time.perf_counter()
        record = lab.push(commit, build=False, hosts=(HOST,))
        whole = time.perf_counter() - started
        if not record.ok:
            failed = "; ".join(f"{c.cluster}: {c.error}" for c in record.clusters if not c.ok)
            raise LabError(f"the pipeline failed in run {index + 1}: {failed or 'a stage'}")
        answered = serves(host, commit[:12])
        for target in record.clusters:
            on_host = target.cluster == host.label
            result.samples.append({
                "series": "a plain Docker host" if on_host else "a kwok cluster",
                "target": target.cluster,
                "kind": "docker" if on_host else "kubernetes",
                "run": index,
                "seconds": round(target.deploy_seconds + target.verify_seconds, 3),
                "answered": answered if on_host else None,
            })  # fmt: skip
        result.samples.append({"series": "the whole pipeline run (no build)", "target": "all",
                               "kind": "run", "run": index, "seconds": round(whole, 3),
                               "answered": answered})  # fmt: skip
    result.summary = summarise(result.samples, "seconds", "s")
    return result


def serves(host: DockerHost, version: str) -> bool:
    """Whether the host's app answers, now, with `version` (read over HTTP, not from Docker)."""
    port = host.port()
    return port is not None and not answers(port, version)
