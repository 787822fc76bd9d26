"""The story of part 4 on the lab: push, then pull, then a change by hand.

`make demo` (`python -m demo tour`) tells it in one go and ends with a summary table;
`python -m demo lab` walks attendees through the same steps one at a time, saying what each
step shows and what they would type, then checking the clusters themselves after it.

1. push: the pipeline builds the app, publishes it and deploys it to every cluster itself;
2. pull: agents start in each cluster; a new app commit goes through the pipeline, which now
   stops at the config repository, and the agents (woken by its hook) apply it;
3. drift: a change by hand in one cluster, and which model puts it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lightkube.resources.apps_v1 import Deployment

from demo.core.errors import LabError
from demo.core.waits import until
from demo.delivery.lab_delivery import NAMESPACE, Delivery
from demo.delivery.pipeline import REPOSITORY
from demo.kube.api import client
from demo.workshop import steps

WAIT = 120  # seconds a step may take before the story says it is stuck
AGENTS = ("ours", "flux")  # the lab's own pull agent, or Flux's controllers


@dataclass(frozen=True)
class Row:
    step: str
    cluster: str
    version: str
    digest: str
    how: str
    lead_time: float


@dataclass
class Story:
    """The three steps and their checks, on one lab; what happened is kept in `rows`."""

    delivery: Delivery
    say: Callable[[str], None]
    interval: float = 5
    agent: str = "ours"
    rows: list[Row] = field(default_factory=list)
    digest: str = ""
    drift_cluster: str = ""
    drift_repaired_after: float = 0.0

    @property
    def puller(self) -> str:
        """Who applies in pull mode, as the story says it."""
        return "Flux" if self.agent == "flux" else "its agent"

    def push(self) -> None:
        d = self.delivery
        d.prepare()
        d.stop_agents()  # start from push, whatever the last run left
        commit = d.head("app")
        started = time.perf_counter()
        record = d.push(commit)
        if not record.ok:
            failed = [s.name for s in record.stages if not s.ok]
            failed += [c.cluster for c in record.clusters if not c.ok]
            raise LabError(
                f"the push pipeline failed at {', '.join(failed)}",
                "`python -m demo push` shows the run; the run record is in the lab state",
            )
        self.digest = record.image.rsplit("@", 1)[1]
        lead = round(time.perf_counter() - started, 1)
        for result in record.clusters:
            self.rows.append(
                Row("push", result.cluster, commit[:12], _short(self.digest), "push", lead)
            )
        self.say(f"    every cluster runs {_short(self.digest)}, deployed by the pipeline")

    def pull(self) -> None:
        d = self.delivery
        d.start_agents(interval=self.interval, kind=self.agent)
        started = time.perf_counter()
        new = d.commit_app(f"the demo app, changed at {time.strftime('%H:%M:%S')}", _touch)
        self.say(f"    committed {new[:12]}; its hook runs the pipeline, up to the config repo")
        self.digest = _wait(lambda: _digest(d, new[:12]), "the pipeline to publish the image")
        pending = {c.name: c for c in d.clusters}

        def applied() -> bool:
            for name, cluster in list(pending.items()):
                image, owners = d.running_image(cluster)
                if image.endswith(self.digest) and "pull" in owners:
                    lead = round(time.perf_counter() - started, 1)
                    self.rows.append(Row("pull", name, new[:12], _short(image), "pull", lead))
                    del pending[name]
                    self.say(f"    {name} runs it, applied by {self.puller}")
            return not pending

        until(
            applied,
            timeout=WAIT - (time.perf_counter() - started),
            every=0.2,
            message=lambda: f"the agents of {', '.join(pending)} did not apply {new[:12]}",
            fix="`python -m demo agent status` shows what they report",
        )

    def drift(self) -> None:
        victim = self.delivery.clusters[0]
        admin = client(victim, "kubectl-by-hand", namespace=NAMESPACE)
        admin.patch(Deployment, "app", {"spec": {"replicas": 5}}, namespace=NAMESPACE)
        started = time.perf_counter()
        _wait(lambda: _replicas(self.delivery, victim.name) == 2 or None, "the agent's repair")
        self.drift_cluster = victim.name
        self.drift_repaired_after = round(time.perf_counter() - started, 1)
        self.say(
            f"    in {victim.name}, {self.puller} put it back after {self.drift_repaired_after} s;"
            " a push pipeline would not have noticed"
        )

    # Checks: read the clusters themselves, whatever the steps said.
    def check_delivered(self, how: str) -> str | None:
        wrong = []
        for cluster in self.delivery.clusters:
            image, owners = self.delivery.running_image(cluster)
            if not image.endswith(self.digest) or how not in owners:
                by = " and ".join(sorted(owners)) or "nobody"
                wrong.append(f"{cluster.name} runs {_short(image) or 'nothing'} (by {by})")
        return "; ".join(wrong) or None

    def check_push(self) -> str | None:
        return self.check_delivered("push")

    def check_pull(self) -> str | None:
        stopped = [a.cluster for a in self.delivery.agents() if not a.running]
        if stopped:
            return f"no agent runs in {', '.join(stopped)}"
        return self.check_delivered("pull")

    def check_drift(self) -> str | None:
        replicas = _replicas(self.delivery, self.drift_cluster)
        return None if replicas == 2 else f"{self.drift_cluster} has {replicas} replicas, not 2"


Step = steps.Step  # a step of part 4's story, acting on a Story


STEPS = (
    Step(
        "push",
        "The pipeline holds a credential for every cluster: it builds the app, publishes the"
        " image, commits the pinned manifests and applies them everywhere itself.",
        "python -m demo push",
        Story.push,
        Story.check_push,
    ),
    Step(
        "pull",
        "Now an agent in each cluster holds that cluster's credential only. A new commit goes"
        " through the pipeline up to git; the agents notice and apply it.",
        "python -m demo agent start, then git push to the lab's app repository",
        Story.pull,
        Story.check_pull,
    ),
    Step(
        "drift",
        "Someone scales the app by hand in one cluster. The agent compares the cluster with"
        " git every round and puts it back; the pipeline would never look.",
        "kubectl -n shop scale deployment/app --replicas=5",
        Story.drift,
        Story.check_drift,
    ),
)


def run_steps(
    story: Story, ask: Callable[[Step, int], bool] = lambda step, number: True
) -> list[tuple[Step, str | None]]:
    """Each step: say what it shows, ask to go on, do it, check the clusters. What each check
    found (None when all is well); stops at the first step that fails its check."""
    results = []
    for number, step in enumerate(STEPS, start=1):
        story.say(f"{number}/{len(STEPS)} {step.title}: {step.shows}")
        if not ask(step, number):
            break
        step.act(story)
        problem = step.check(story)
        results.append((step, problem))
        story.say(f"    check: {'ok' if problem is None else problem}")
        if problem is not None:
            break
    return results


def _touch(folder: Path) -> None:
    page = folder / "index.html"
    page.write_text(page.read_text().replace("</body>", f"<!-- {time.time()} -->\n</body>", 1))


def _replicas(delivery: Delivery, name: str) -> int | None:
    cluster = next(c for c in delivery.clusters if c.name == name)
    return delivery.reader(cluster).get(Deployment, "app", namespace=NAMESPACE).spec.replicas


def _digest(delivery: Delivery, tag: str) -> str | None:
    try:
        return delivery.registry.resolve(REPOSITORY, tag)
    except LabError:
        return None


def _wait(probe: Callable[[], object], what: str):
    return until(probe, what, WAIT, every=0.2, fix="`python -m demo status` shows the lab")


def _short(image: str) -> str:
    return image.rsplit("@", 1)[-1][:19]


NEXT = """\
What to try next:
  python -m demo agent status     what each agent reports (revision, inventory, repairs)
  python -m demo agent stop       back to push: the pipeline deploys again
  python -m demo lab              the same story one step at a time, with a check after each
  python -m demo down             remove everything"""
