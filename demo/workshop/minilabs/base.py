"""What every mini-lab track is made of: a bench (one cluster), steps, and the walk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from lightkube import Client

from demo.clusters.base import Cluster
from demo.clusters.node import Node
from demo.core.errors import LabError
from demo.kube.accounts import namespace_object
from demo.kube.api import client
from demo.workshop import steps

FIELD_MANAGER = "tellit-minilab"
# What the tracks' pods run as: Pod Security Admission's `restricted` level, which the track's
# namespace enforces (so the lab never teaches a pod spec it would refuse elsewhere).
RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass
class Bench:
    """One cluster as a track uses it; `notes` carries what one step found to the next."""

    cluster: Cluster
    namespace: str
    folder: Path  # the track's own files (tokens, keys), private to the reader
    say: Callable[[str], None]
    runs_pods: bool
    node: Node | None = None  # kind's control-plane node: its files and its etcd
    image: str = ""  # the app's image, already on the nodes
    notes: dict = field(default_factory=dict)

    def api(self, namespace: str | None = None) -> Client:
        return client(self.cluster, FIELD_MANAGER, namespace=namespace or self.namespace)

    def apply(self, *objects: dict) -> None:
        """`kubectl apply`, as an attendee would type it."""
        text = yaml.safe_dump_all(objects, sort_keys=False)
        self.cluster.kubectl("apply", "-f", "-", input=text)

    def namespace_object(self) -> dict:
        return namespace_object(self.namespace)


Step = steps.Step  # a step of a mini-lab, acting on a Bench


@dataclass(frozen=True)
class Track:
    name: str
    part: int
    title: str
    steps: tuple[Step, ...]
    # Run after the walk whatever happened, so a failed step never leaves the cluster broken.
    restore: Callable[[Bench], None] | None = None


@dataclass(frozen=True)
class Outcome:
    step: Step
    status: str  # "ok", "failed" or "skipped"
    detail: str = ""


def missing(step: Step, bench: Bench) -> str:
    """Why this bench cannot run the step, or "" when it can."""
    if "pods" in step.needs and not bench.runs_pods:
        return "needs real pods: run the track on kind (--provider kind)"
    if "node" in step.needs and bench.node is None:
        return "needs kind's control-plane node (--provider kind)"
    return ""


def walk(
    track: Track, bench: Bench, ask: Callable[[Step, int], bool] = lambda step, number: True
) -> list[Outcome]:
    """Each step: say what it shows, ask to go on, do it, check the cluster. Stops at the first
    check that fails (later steps build on it); a step this bench cannot run is skipped."""
    outcomes: list[Outcome] = []
    try:
        walk_steps(track, bench, ask, outcomes)
    finally:
        if track.restore is not None:
            track.restore(bench)
    return outcomes


def walk_steps(
    track: Track, bench: Bench, ask: Callable[[Step, int], bool], outcomes: list[Outcome]
) -> None:
    for number, step in enumerate(track.steps, start=1):
        bench.say(f"{number}/{len(track.steps)} {step.title}: {step.shows}")
        reason = missing(step, bench)
        if reason:
            bench.say(f"    skipped: {reason}")
            outcomes.append(Outcome(step, "skipped", reason))
            continue
        if not ask(step, number):
            break
        started = time.perf_counter()
        try:
            step.act(bench)
            problem = step.check(bench)
        except LabError as error:
            problem = error.message
        took = time.perf_counter() - started
        outcomes.append(Outcome(step, "ok" if problem is None else "failed", problem or ""))
        bench.say(f"    check: {'ok' if problem is None else problem} ({took:.1f} s)")
        if problem is not None:
            break
