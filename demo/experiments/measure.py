"""Measuring delivery on a running lab: commits to the config repository, and how long until
the clusters run what they name. Shared by the experiments and the benchmarks."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml
from lightkube.resources.apps_v1 import Deployment

from demo.core.context import LabContext
from demo.core.entrypoints import python_m
from demo.core.errors import LabError
from demo.core.git import WorkTree, author_env
from demo.core.paths import REPO
from demo.core.run import run
from demo.core.waits import until
from demo.delivery.lab_delivery import CONFIG_REPO, NAMESPACE, Delivery
from demo.delivery.pipeline import RunRecord, wait_rollout
from demo.kube.api import client

ROOT = REPO


def all_running(apis: list, image: str) -> None:
    for api in apis:
        wait_rollout(api, NAMESPACE, image)


def commit_config(lab: Delivery, work: Path, images: list[str]) -> str:
    """A commit to the config repository that only swaps the image for the other one (what
    the agents see); the image it now names."""
    env = author_env("bench", "bench@tellit.invalid")
    exists = work.exists()
    tree = WorkTree(work, env) if exists else WorkTree.clone(lab.url(CONFIG_REPO), work, env)
    tree.pull()
    manifest = work / "deploy" / "app.yaml"
    documents = list(yaml.safe_load_all(manifest.read_text()))
    containers = [
        container
        for document in documents
        if document and document.get("kind") == "Deployment"
        for container in document["spec"]["template"]["spec"]["containers"]
    ]
    if not containers:
        raise LabError(f"{manifest} has no Deployment whose image to swap", "run `push` first")
    image = images[1] if images[0] in containers[0]["image"] else images[0]
    for container in containers:
        container["image"] = image
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    tree.commit_all("bench")
    tree.push(lab.url(CONFIG_REPO, token=True))
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
        each += arrivals(apis, image, started)
        all_running(apis, image)
        every.append(time.perf_counter() - started)
    for api in apis:
        api.close()
    return every, each


def arrivals(apis: list, image: str, started: float, timeout: float = 120) -> list[float]:
    """Seconds from `started` until each cluster's Deployment named `image`, in arrival order."""
    pending, seconds = list(apis), []

    def arrived() -> bool:
        done = [api for api in pending if live_image(api) == image]
        seconds.extend([time.perf_counter() - started] * len(done))
        pending[:] = [api for api in pending if api not in done]
        return not pending

    until(
        arrived,
        timeout=timeout,
        every=0.05,
        message=lambda: f"{len(pending)} cluster(s) did not get {image} in {timeout:g} s",
    )
    return seconds


def live_image(api) -> str:
    deployment = api.get(Deployment, "app", namespace=NAMESPACE)
    return deployment.spec.template.spec.containers[0].image


HOOK_LOG = (
    Path("git") / "repos" / "app.git" / "tellit-on-push.log"
)  # the git hook's start writes it


def hook_run(root: Path, commit: str, wait: float = 300) -> dict:
    """The record of the pipeline run the app repository's hook started for `commit`."""
    found = until(
        lambda: list((root / "runs").glob(f"*-{commit[:12]}.json")) or None,
        timeout=wait,
        every=0.05,
        message=lambda: (
            f"the hook's pipeline run of {commit[:12]} did not finish in {wait:g} s;"
            f" the hook's log ends: {_tail(root / HOOK_LOG)}"
        ),
        fix=f"read {root / HOOK_LOG} for the whole run",
    )
    time.sleep(0.1)  # written atomically, but let the run's process finish its last log line
    return json.loads(found[0].read_text())


def _tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log, on one line, or what stopped us reading it."""
    try:
        said = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as error:
        return f"(no log: {error.strerror})"
    return " | ".join(line.strip() for line in said if line.strip()) or "(empty)"


def kwok_lab(
    context: LabContext, clusters: int = 3, provider: str = "kwok"
) -> tuple[Delivery, RunRecord]:
    """Clusters up in the lab `context` (three kwok ones by default), the app pushed."""
    run(
        [*python_m("cli"), "up", "--provider", provider, "--clusters", str(clusters)],
        cwd=ROOT,
        env={**os.environ, **context.child_env()},
        timeout=900,
    )
    lab = Delivery(context.quiet())
    lab.prepare()
    first = lab.push()
    assert first.ok, first
    return lab, first
