"""The push pipeline on three real control planes (kwok): build, publish, commit, deploy with a
namespaced credential per cluster, verify; a failing cluster is reported and a re-run converges."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from lightkube.resources.apps_v1 import Deployment
from support.lab import lab_at, need_docker, need_lab_tools, need_registry

from demo.clusters import create_all, provider
from demo.delivery.pipeline import APP, Pipeline, PipelineError, Target, load_manifests, pin
from demo.kube.accounts import namespaced_role, service_account_kubeconfig
from demo.kube.api import client
from demo.services.git.server import GitServer
from demo.services.registry import LocalRegistry
from demo.toolchain.images import ensure_base_image

COMMIT = "c0ffee" + "0" * 34


def test_the_app_manifests_are_valid_and_get_pinned(tmp_path):
    manifests = load_manifests(APP / "deploy")
    pinned = pin(manifests, "registry/lab/app@sha256:" + "f" * 64, "shop")
    deployment = next(m for m in pinned if m["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith("f" * 64)
    assert all(m["metadata"]["namespace"] == "shop" for m in pinned)
    assert manifests[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "app"
    (tmp_path / "bad.yaml").write_text("kind: [\n")
    with pytest.raises(PipelineError, match=r"bad\.yaml is not valid YAML"):
        load_manifests(tmp_path)


@pytest.mark.provisioned
def test_push_to_three_clusters_a_failure_and_convergence(lab_state, tmp_path):
    need_lab_tools()
    need_docker()
    need_registry()
    ensure_base_image(log=lambda message: None)
    kwok = provider("kwok", lab_at(lab_state))
    clusters = create_all(kwok, ["east", "west", "north"], progress=lambda message: None)
    targets = []
    for cluster in clusters:
        cluster.kubectl("apply", "-f", "-", input=namespaced_role("shop", "pipeline"))
        view = service_account_kubeconfig(
            cluster, "shop", "pipeline", lab_state / "pipeline" / f"{cluster.name}.yaml"
        )
        targets.append(Target(view, "shop", cluster.name))
    registry = LocalRegistry(lab_state / "registry").start()
    git = GitServer(lab_at(lab_state))
    git.start()
    git.create_repo("config")
    config_url = git.push_url("config")
    messages: list[str] = []
    pipeline = Pipeline(registry, config_url, targets, lab_state / "runs", log=messages.append)

    record = pipeline.run(COMMIT)
    assert record.ok, messages
    assert [s.name for s in record.stages] == [
        "validate",
        "build",
        "publish",
        "commit",
        "deploy and verify",
    ]
    assert all(s.seconds > 0 for s in record.stages)
    digest = record.image.rsplit("@", 1)[1]
    assert registry.resolve("lab/app", COMMIT[:12]) == digest
    for cluster in clusters:
        live = client(cluster, "test").get(Deployment, "app", namespace="shop")
        assert live.spec.template.spec.containers[0].image == record.image
        assert live.status.availableReplicas == 2
    saved = json.loads(sorted((lab_state / "runs").glob("*.json"))[-1].read_text())
    assert saved["ok"] and saved["image"] == record.image and len(saved["clusters"]) == 3

    clone = tmp_path / "config"
    subprocess.run(["git", "clone", "-q", git.url("config"), str(clone)], check=True)
    committed = list(yaml.safe_load_all((clone / "deploy" / "app.yaml").read_text()))
    assert committed[0]["spec"]["template"]["spec"]["containers"][0]["image"] == record.image

    # One cluster's API server dies: it is reported, the others are deployed.
    west_apiserver = next(p for p in kwok.processes("west") if p.name() == "kube-apiserver")
    west_apiserver.kill()
    west_apiserver.wait(10)
    failed = pipeline.run(COMMIT, build=False)
    assert not failed.ok
    by_name = {c.cluster: c for c in failed.clusters}
    assert by_name["east"].ok and by_name["north"].ok
    assert not by_name["west"].ok and "does not answer" in by_name["west"].error
    assert failed.stages[-1].name == "deploy and verify" and not failed.stages[-1].ok

    # Back, and the same run again converges.
    kwok.create("west")
    again = pipeline.run(COMMIT, build=False)
    assert again.ok, messages
    assert again.config_commit == record.config_commit, "nothing new to commit"
