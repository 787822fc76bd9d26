"""Running an experiment: a lab state of its own (the reader's lab is left alone), the
experiment, its result checked and written, and the lab torn down whatever happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.experiments import bundle, credentials, drift, flexibility, footprint, leadtime, pollload
from demo.experiments.results import RESULTS, Result, write
from demo.lab.teardown import own_lab


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    clusters: bool  # whether it brings up clusters (and so takes a provider)
    run: Callable[[LabContext, str, str], Result]  # the lab, its size, the provider
    # Where it can run: stopping a cluster, or Flux built here, needs kwok; lead time runs on
    # kind too (real pods, the agent in its cluster) and writes lead-time-kind.json.
    providers: tuple[str, ...] = ("kwok",)


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(leadtime.NAME, leadtime.TITLE, True, leadtime.run, ("kwok", "kind")),
        Experiment(drift.NAME, drift.TITLE, True, drift.run),
        Experiment(credentials.NAME, credentials.TITLE, True, credentials.run),
        Experiment(flexibility.NAME, flexibility.TITLE, True, flexibility.run),
        Experiment(footprint.NAME, footprint.TITLE, True, footprint.run),
        Experiment(
            pollload.NAME,
            pollload.TITLE,
            False,
            lambda lab, size, provider: pollload.run_experiment(lab, size),
            ("kwok", "kind"),  # no clusters: the same on either
        ),
        # Removes the lab's images and runs make demo PROVIDER=kind on a fresh clone: run by
        # name only (`python -m demo experiment offline-bundle --provider kind`), never in all.
        Experiment(
            bundle.NAME,
            bundle.TITLE,
            False,
            lambda lab, size, provider: bundle.run_experiment(size, lab.log),
            ("kind",),
        ),
    )
}


# Small runs share one lab, in this order: no clusters first, the one that stops and starts
# clusters last. (Full runs each get a fresh lab: nothing one leaves can touch the next.)
SHARED_ORDER = (
    "polling-load",
    "credentials",
    "flexibility",
    "agent-footprint",
    "lead-time",
    "propagation-drift",
)


def run_experiment(
    name: str,
    lab: LabContext,
    size: str = "full",
    provider: str = "kwok",
    out: Path = RESULTS,
    shared: bool = False,
) -> Path:
    """Run one experiment on a fresh lab state beside `lab` (the reader's, whose tools and
    log it uses), or on `lab` itself when `shared` (a lab state shared by small runs and torn
    down by whoever made it); the result file written."""
    experiment = EXPERIMENTS[name]
    if provider not in experiment.providers:
        raise LabError(
            f"the {name} experiment runs on {' or '.join(experiment.providers)}, not {provider}",
            f"run it with --provider {experiment.providers[0]}",
        )
    if not shared:
        with own_lab(name, lab) as own:
            return run_experiment(name, own, size, provider, out, shared=True)
    result = experiment.run(lab, size, provider)
    return write(result, time.perf_counter(), out)
