"""The mini-labs' walk and their pure parts; the tracks themselves run on kind
(test_kind_e2e.py) and, where no pod is needed, on kwok (test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.paths import ROOT

from demo.clusters.base import Cluster
from demo.core.errors import LabError
from demo.workshop.minilabs import TRACKS, Bench, Node, Step, Track, walk
from demo.workshop.minilabs.secrets import encryption_config, with_encryption


def bench(runs_pods: bool = True, node: bool = True) -> Bench:
    cluster = Cluster("east", "kind", Path("k"), "kind-tellit-east", Path("kubectl"))
    return Bench(
        cluster,
        "minilab-test",
        Path("unused"),
        say=lambda message: None,
        runs_pods=runs_pods,
        node=Node("tellit-east-control-plane") if node else None,
    )


def recorder(name: str, done: list[str], problem: str | None = None, raises: bool = False):
    def act(b: Bench) -> None:
        done.append(name)
        if raises:
            raise LabError(f"{name} broke")

    return Step(name, "", "", act, lambda b: problem)


def test_walk_stops_at_the_first_failed_check_and_always_restores():
    done: list[str] = []
    restored: list[bool] = []
    track = Track(
        "t",
        3,
        "",
        (
            recorder("one", done),
            recorder("two", done, problem="two is wrong"),
            recorder("three", done),
        ),
        restore=lambda b: restored.append(True),
    )
    outcomes = walk(track, bench())
    assert [o.status for o in outcomes] == ["ok", "failed"] and done == ["one", "two"]
    assert outcomes[1].detail == "two is wrong" and restored == [True]


def test_an_error_in_a_step_is_its_failed_check():
    done: list[str] = []
    track = Track("t", 3, "", (recorder("one", done, raises=True),))
    (outcome,) = walk(track, bench())
    assert outcome.status == "failed" and outcome.detail == "one broke"


def test_steps_that_need_pods_or_a_node_are_skipped_with_the_reason():
    done: list[str] = []
    pods = Step("pods", "", "", lambda b: done.append("pods"), lambda b: None, needs=("pods",))
    node = Step("node", "", "", lambda b: done.append("node"), lambda b: None, needs=("node",))
    plain = Step("plain", "", "", lambda b: done.append("plain"), lambda b: None)
    outcomes = walk(Track("t", 3, "", (pods, node, plain)), bench(runs_pods=False, node=False))
    assert [o.status for o in outcomes] == ["skipped", "skipped", "ok"] and done == ["plain"]
    assert "kind" in outcomes[0].detail and "control-plane node" in outcomes[1].detail


def test_an_attendee_who_stops_ends_the_walk_before_the_step_runs():
    done: list[str] = []
    track = Track("t", 3, "", (recorder("one", done),))
    assert walk(track, bench(), ask=lambda step, number: False) == [] and done == []


def test_every_track_says_what_to_type_and_belongs_to_part_2_or_3():
    assert set(TRACKS) == {"services", "secrets", "control-plane"}
    for track in TRACKS.values():
        assert track.part in (2, 3)
        for step in track.steps:
            assert step.title and step.shows.endswith(".") and step.command
            assert set(step.needs) <= {"pods", "node"}


def test_encryption_goes_into_the_api_servers_static_pod_once_with_its_key_mounted():
    manifest = {
        "spec": {
            "containers": [{"name": "kube-apiserver", "command": ["kube-apiserver", "--a=b"]}],
            "volumes": [{"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki"}}],
        }
    }
    changed = with_encryption(manifest)
    container = changed["spec"]["containers"][0]
    assert container["command"][-1] == (
        "--encryption-provider-config=/etc/kubernetes/encryption/config.yaml"
    )
    assert container["volumeMounts"] == [
        {"name": "encryption", "mountPath": "/etc/kubernetes/encryption", "readOnly": True}
    ]
    assert [v["name"] for v in changed["spec"]["volumes"]] == ["k8s-certs", "encryption"]
    config = yaml.safe_load(encryption_config("a2V5"))
    providers = config["resources"][0]["providers"]
    assert config["resources"][0]["resources"] == ["secrets"]
    assert providers == [
        {"secretbox": {"keys": [{"name": "key1", "secret": "a2V5"}]}},
        {"identity": {}},
    ], "the new key first (writes), identity last (reads what was stored before)"


@pytest.mark.parametrize("track", list(TRACKS))
def test_each_track_is_linked_from_its_post(track):
    root = ROOT
    part = TRACKS[track].part
    (post,) = (root / "docs" / "series").glob(f"part-{part}-*.md")
    assert f"python -m demo lab --track {track}" in post.read_text()
