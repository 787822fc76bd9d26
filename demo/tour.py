"""`make demo`: the whole story of part 4 on the lab, in order, with a summary at the end.

1. push: the pipeline builds the app, publishes it and deploys it to every cluster itself;
2. pull: agents start in each cluster; a new app commit goes through the pipeline, which now
   stops at the config repository, and the agents (woken by its hook) apply it;
3. drift: a change by hand in one cluster, and which model puts it back.

Each step says what it is doing; the summary has, per cluster, the version running, its
digest, how it got there and the lead time from commit to running.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lightkube.resources.apps_v1 import Deployment

from .delivery import NAMESPACE, Delivery
from .errors import LabError
from .kubeapi import client
from .pipeline import REPOSITORY

WAIT = 120  # seconds a step may take before the tour says it is stuck


@dataclass(frozen=True)
class Row:
    step: str
    cluster: str
    version: str
    digest: str
    how: str
    lead_time: float


@dataclass(frozen=True)
class Outcome:
    rows: list[Row]
    drift_cluster: str
    drift_repaired_after: float


def run_tour(delivery: Delivery, say: Callable[[str], None], interval: float = 5) -> Outcome:
    delivery.prepare()
    delivery.stop_agents()  # start from push, whatever the last run left

    say("1/3 push: the pipeline builds, publishes and deploys to every cluster")
    commit = delivery.head("app")
    started = time.perf_counter()
    record = delivery.push(commit)
    if not record.ok:
        failed = [s for s in record.stages if not s.ok] + [c for c in record.clusters if not c.ok]
        raise LabError(f"the push pipeline failed: {failed}", "see the run record in the lab state")
    rows = [
        Row(
            "push",
            c.cluster,
            commit[:12],
            _short(record.image),
            "push",
            round(time.perf_counter() - started, 1),
        )
        for c in record.clusters
    ]

    say(f"2/3 pull: agents in every cluster, polling every {interval:g} s; a new app commit")
    delivery.start_agents(interval=interval)
    started = time.perf_counter()
    new = delivery.commit_app(f"the demo app, changed at {time.strftime('%H:%M:%S')}", _touch)
    say(f"    committed {new[:12]}; its hook runs the pipeline, up to the config repository")
    digest = _wait(lambda: _digest(delivery, new[:12]), "the pipeline to publish the new image")
    pending = {c.name: c for c in delivery.clusters}
    while pending:
        for name, cluster in list(pending.items()):
            image, how = delivery.running_image(cluster)
            if image.endswith(digest) and how == "pull":
                rows.append(
                    Row(
                        "pull",
                        name,
                        new[:12],
                        _short(image),
                        how,
                        round(time.perf_counter() - started, 1),
                    )
                )
                del pending[name]
                say(f"    {name} runs it, applied by its agent")
        if time.perf_counter() - started > WAIT:
            raise LabError(
                f"the agents of {', '.join(pending)} did not apply {new[:12]}",
                "`python -m demo agent status` shows what they report",
            )
        time.sleep(0.2)

    say("3/3 drift: someone scales the app by hand in one cluster")
    victim = delivery.clusters[0]
    admin = client(victim, "kubectl-by-hand", namespace=NAMESPACE)
    admin.patch(Deployment, "app", {"spec": {"replicas": 5}}, namespace=NAMESPACE)
    started = time.perf_counter()
    _wait(
        lambda: admin.get(Deployment, "app", namespace=NAMESPACE).spec.replicas == 2 or None,
        "the agent to put the replica count back",
    )
    after = round(time.perf_counter() - started, 1)
    say(f"    the pull agent put it back after {after} s; a push pipeline would not have noticed")
    return Outcome(rows, victim.name, after)


def _touch(folder: Path) -> None:
    page = folder / "index.html"
    page.write_text(page.read_text().replace("</body>", f"<!-- {time.time()} -->\n</body>", 1))


def _digest(delivery: Delivery, tag: str) -> str | None:
    try:
        return delivery.registry.resolve(REPOSITORY, tag)
    except LabError:
        return None


def _wait(probe: Callable[[], object], what: str):
    deadline = time.perf_counter() + WAIT
    while (found := probe()) is None:
        if time.perf_counter() > deadline:
            raise LabError(f"waited {WAIT} s for {what}", "`python -m demo status` shows the lab")
        time.sleep(0.2)
    return found


def _short(image: str) -> str:
    return image.rsplit("@", 1)[-1][:19]


NEXT = """\
What to try next:
  python -m demo agent status          what each agent reports (revision, inventory, repairs)
  python -m demo agent stop            back to push: the pipeline deploys again
  kubectl -n shop scale deploy/app --replicas=4   (in a cluster) and watch the agent repair it
  python -m demo down                  remove everything"""
