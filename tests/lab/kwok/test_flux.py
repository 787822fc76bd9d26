"""Real Flux (source- and kustomize-controller built from their modules) on three kwok
clusters, against the lab's git server: it syncs, is woken by the hook, repairs drift, prunes,
keeps the last good revision on a bad commit, is refused outside its grants, and leaves
nothing behind."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import requests
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Pod, Secret
from support.lab import lab_at, need_flux, need_lab_tools
from support.manifests import Repo, configmap, deployment

from demo.clusters import create_all, provider
from demo.core import signing
from demo.core.processes import listening
from demo.delivery.flux import controllers as flux
from demo.delivery.flux.objects import (
    FIELD_MANAGER,
    KUSTOMIZE_CONTROLLER,
    RECEIVER,
    SOURCE,
    SOURCE_CONTROLLER,
)
from demo.delivery.flux.receiver import GitRepository
from demo.kube.api import client
from demo.services.git.server import GitServer

pytestmark = pytest.mark.provisioned

NAMESPACE = "shop"
SECRET = "flux-s3cret"
# The source is polled rarely, so that only the hook can explain a quick delivery; the
# Kustomization runs often, so that drift is repaired within the test.
FETCH_INTERVAL = 600
APPLY_INTERVAL = 2


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    need_lab_tools()
    need_flux()
    state = tmp_path_factory.mktemp("flux-lab") / "lab"
    patch = pytest.MonkeyPatch()
    patch.setenv("TELLIT_LAB_STATE", str(state))  # for the `python -m demo` it runs
    server = GitServer(lab_at(state), hook_secret=SECRET)
    server.start()
    server.create_repo("config")
    repo = Repo(server, tmp_path_factory.mktemp("flux-work") / "work")
    repo.commit({"app.yaml": [deployment("0")]}, "the first commit")
    clusters = create_all(
        provider("kwok", lab_at(state)), ["fa", "fb", "fc"], progress=lambda m: None
    )
    hosts = []
    for cluster in clusters:
        host = flux.FluxOnHost(cluster, NAMESPACE, lab_at(state))
        host.install(server.url("config"), APPLY_INTERVAL, fetch_interval=FETCH_INTERVAL)
        ports = host.start(SECRET, log=lambda m: None)
        server.subscribe("config", f"http://127.0.0.1:{ports['webhook']}/")
        hosts.append(host)
    admins = [client(c, "test-admin", namespace=NAMESPACE) for c in clusters]
    yield hosts, admins, repo, state
    from demo.lab.teardown import down

    for host in hosts:
        host.stop()
    server.stop()
    problems = down(lab_at(state))
    patch.undo()
    assert problems == [], problems


def applied_everywhere(admins, commit: str, timeout: float = 90) -> list[flux.FluxStatus]:
    return [flux.wait_applied(admin, NAMESPACE, commit, timeout)[0] for admin in admins]


def image(admin) -> str:
    return admin.get(Deployment, "app").spec.template.spec.containers[0].image


def test_the_hook_wakes_flux_and_it_syncs_three_clusters(fleet):
    hosts, admins, repo, _ = fleet
    assert all(host.running() for host in hosts)
    commit = repo.commit(
        {"app.yaml": [deployment("a")], "settings.yaml": [configmap("settings", colour="red")]},
        "v1",
    )
    # The source polls every 10 minutes: only the hook (the receiver's annotation) explains
    # a delivery within the 90 s this waits.
    for status, admin in zip(applied_everywhere(admins, commit), admins, strict=True):
        assert status.fetched == commit and status.inventory == 2
        live = admin.get(Deployment, "app")
        assert image(admin).endswith("a" * 64)
        managers = {m.manager for m in live.metadata.managedFields}
        assert FIELD_MANAGER in managers, managers
        annotations = admin.get(GitRepository, SOURCE).metadata.annotations or {}
        assert "reconcile.fluxcd.io/requestedAt" in annotations


def test_flux_repairs_drift_and_prunes_what_left_git(fleet):
    _, admins, repo, _ = fleet
    commit = repo.commit({"settings.yaml": [configmap("settings", colour="blue")]}, "blue")
    applied_everywhere(admins, commit)
    victim = admins[0]
    victim.patch(Deployment, "app", {"spec": {"replicas": 5}})
    deadline = time.monotonic() + 60
    while victim.get(Deployment, "app").spec.replicas != 2:
        assert time.monotonic() < deadline, "Flux did not put the replicas back within 60 s"
        time.sleep(0.2)

    pruned = repo.commit({"settings.yaml": None}, "drop the settings")
    for status, admin in zip(applied_everywhere(admins, pruned), admins, strict=True):
        assert status.inventory == 1
        names = {c.metadata.name for c in admin.list(ConfigMap, namespace=NAMESPACE)}
        assert "settings" not in names


def test_a_bad_commit_is_reported_and_the_last_good_revision_stays(fleet):
    _, admins, repo, _ = fleet
    good = repo.commit({"app.yaml": [deployment("b")]}, "good")
    applied_everywhere(admins, good)
    broken = deployment("c")
    broken["spec"]["replicas"] = "many"
    bad = repo.commit({"app.yaml": [broken]}, "bad: replicas is not a number")
    for admin in admins:
        deadline = time.monotonic() + 90
        while (status := flux.read_status(admin, NAMESPACE)).last_attempted != bad or (
            status.ready != "False"
        ):
            assert time.monotonic() < deadline, f"Flux did not report {bad[:12]}: {status}"
            time.sleep(0.2)
        assert status.last_applied == good and "replicas" in status.message, status
        assert image(admin).endswith("b" * 64)
    fixed = repo.commit({"app.yaml": [deployment("d")]}, "fixed")
    applied_everywhere(admins, fixed)


def test_each_flux_credential_is_refused_outside_its_grant(fleet):
    hosts, _, _, state = fleet
    host = hosts[0]
    folder = state / "flux" / host.cluster.name
    views = {
        account: client(
            replace(host.cluster, kubeconfig=folder / f"{account}.kubeconfig", context=account),
            "test",
            namespace=NAMESPACE,
        )
        for account in (SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER, RECEIVER)
    }

    def refused(call) -> None:
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.status.code == 403

    source, kustomize, receiver = (
        views[SOURCE_CONTROLLER],
        views[KUSTOMIZE_CONTROLLER],
        views[RECEIVER],
    )
    # The controllers: their own kinds in the namespace, nothing else; the app changes only
    # through the applier that kustomize-controller impersonates.
    for controller in (source, kustomize):
        assert controller.get(GitRepository, SOURCE).metadata.name == SOURCE
        refused(lambda c=controller: c.get(Deployment, "app"))
        refused(lambda c=controller: list(c.list(Pod, namespace="kube-system")))
        refused(lambda c=controller: c.create(ConfigMap.from_dict(configmap("sneaky", a="b"))))
    refused(lambda: list(source.list(Secret, namespace=NAMESPACE)))
    refused(lambda: list(kustomize.list(Secret, namespace="kube-system")))
    refused(lambda: kustomize.patch(GitRepository, SOURCE, {"spec": {"suspend": True}}))
    # What Flux needs and the lab's agent does not: kustomize-controller watches the
    # namespace's ConfigMaps and Secrets, so its token reads them.
    assert isinstance(list(kustomize.list(Secret, namespace=NAMESPACE)), list)
    # The receiver: may annotate the one GitRepository, and that is all.
    assert receiver.get(GitRepository, SOURCE).metadata.name == SOURCE
    refused(lambda: receiver.get(Deployment, "app"))
    refused(lambda: list(receiver.list(GitRepository, namespace=NAMESPACE)))
    # The receiver refuses an unsigned call and accepts a signed one, as the agent's webhook.
    webhook = host.ports()["receiver"]["webhook"]
    body = b'{"repository": "config"}'
    url = f"http://127.0.0.1:{webhook}/"
    assert requests.post(url, data=body, timeout=5).status_code == 401
    signed = {signing.HEADER: signing.signature(SECRET, body)}
    assert requests.post(url, data=body, headers=signed, timeout=5).status_code == 202


def test_stopping_flux_leaves_no_controller_process_or_port(fleet):
    hosts, _, _, _ = fleet
    host = hosts[-1]
    ports = [p for group in host.ports().values() for p in group.values()]
    pids = [host.service(part).pid() for part in host.parts]
    assert all(pids) and all(listening(p) for p in ports)
    assert host.stop() == []
    assert not any(listening(p) for p in ports)
    assert not any(host.service(part).pid() for part in host.parts)
