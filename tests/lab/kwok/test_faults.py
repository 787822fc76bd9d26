"""Faults on the lab (kwok): each ends in a reported state and converges once it is gone.

Covered elsewhere: git server down during a poll and an invalid commit (test_agent), one
cluster's API server killed during a push (test_push). Here: the registry down during a
publish, and an agent killed while it works and started again.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from lightkube.resources.core_v1 import ConfigMap
from support.lab import lab_at, need_docker, need_lab_tools, need_registry

from demo.clusters import create_all, provider
from demo.core.errors import LabError
from demo.delivery.agent.reconciler import STATUS_NAME
from demo.delivery.lab_delivery import NAMESPACE, Delivery
from demo.kube.api import client
from demo.lab.record import LabRecord, start_registry
from demo.services.background import Service
from demo.services.git.server import GitServer
from demo.services.registry import LocalRegistry

pytestmark = pytest.mark.provisioned


@pytest.fixture
def delivery(lab_state):
    """A lab as `up` leaves it (two kwok clusters, registry, git server), ready for delivery."""
    need_lab_tools()
    need_docker()
    need_registry()
    owner = provider("kwok", lab_at(lab_state))
    clusters = create_all(owner, ["east", "west"], progress=lambda message: None)
    LabRecord("kwok", ["east", "west"]).save(lab_state)
    start_registry(owner, clusters, lab_state)
    GitServer(lab_at(lab_state)).start()
    messages: list[str] = []
    lab = Delivery(lab_at(lab_state, messages.append))
    lab.prepare()
    return lab


def test_registry_down_during_a_publish(delivery, lab_state):
    LocalRegistry(lab_state / "registry").stop()
    failed = delivery.push()
    assert not failed.ok
    publish = next(s for s in failed.stages if s.name == "publish")
    assert not publish.ok and publish.detail, "the failed stage says why"
    assert [s.name for s in failed.stages][-1] == "publish", "nothing after a failed publish"
    saved = json.loads(sorted((lab_state / "runs").glob("*.json"))[-1].read_text())
    assert saved["ok"] is False and saved["stages"][-1]["name"] == "publish"

    LocalRegistry(lab_state / "registry").start()  # the same address as before
    again = delivery.push(build=False)
    assert again.ok and len(again.clusters) == 2


def test_an_agent_killed_while_it_works_is_started_again_and_converges(delivery, lab_state):
    delivery.start_agents(interval=1)
    first = delivery.commit_app("v2", lambda folder: (folder / "NOTE").write_text("v2\n"))
    agent = Service.named("agent-east", lab_state / "services")
    pid = agent.pid()
    assert pid, "the agent runs as a service of the lab"
    # Kill it as hard as a machine would, while the pipeline's commit reaches the agents.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while agent.pid() is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    east = next(c for c in delivery.clusters if c.name == "east")
    api = client(east, "test", namespace=NAMESPACE)

    # Started again, it reads its last status from the cluster and finishes the job.
    delivery.start_agents(interval=1)
    digest = None
    while digest is None or not delivery.running_image(east)[0].endswith(digest):
        assert time.monotonic() < deadline, "the restarted agent did not converge"
        try:
            digest = delivery.registry.resolve("lab/app", first[:12])
        except LabError:  # not published yet
            digest = None
        time.sleep(0.2)
    # The agent reports at the end of the round that applied it: the status follows the image.
    while True:
        status = api.get(ConfigMap, STATUS_NAME, namespace=NAMESPACE).data
        if status["lastError"] == "" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["lastError"] == "" and json.loads(status["conditions"])[0]["status"] == "True"
    delivery.stop_agents()
    assert agent.pid() is None
