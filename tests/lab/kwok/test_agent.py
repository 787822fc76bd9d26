"""The pull agent on a real control plane (kwok): applies, prunes, repairs drift, keeps the last
good state on a bad commit, is woken by a signed webhook, and is refused outside its namespace."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Event, Namespace
from lightkube.resources.rbac_authorization_v1 import RoleBinding
from support.lab import lab_at, need_lab_tools
from support.manifests import Repo, configmap, deployment

from demo.clusters import provider
from demo.core import signing
from demo.delivery.agent.reconciler import FIELD_MANAGER, STATUS_NAME, Agent
from demo.delivery.agent.settings import Settings
from demo.kube.accounts import namespaced_role, service_account_kubeconfig
from demo.kube.api import KubeError, apply_all, client
from demo.services.git.server import GitServer

pytestmark = pytest.mark.provisioned

NAMESPACE = "shop"


@pytest.fixture
def lab(lab_state, tmp_path):
    need_lab_tools()
    cluster = provider("kwok", lab_at(lab_state)).create("pull")
    cluster.kubectl("apply", "-f", "-", input=namespaced_role(NAMESPACE, "agent"))
    cluster.kubectl("create", "namespace", "elsewhere")
    agent_view = service_account_kubeconfig(
        cluster, NAMESPACE, "agent", lab_state / "agent.yaml", duration="2h"
    )
    server = GitServer(lab_at(lab_state), hook_secret="s3cret")
    server.start()
    server.create_repo("config")
    repo = Repo(server, tmp_path / "work")
    settings = Settings(
        cluster="pull",
        repo_url=server.url("config"),
        namespace=NAMESPACE,
        work=lab_state / "agent-work",
        interval=60,
        webhook_secret="s3cret",
    )
    api = client(agent_view, FIELD_MANAGER, namespace=NAMESPACE)
    admin = client(cluster, "test-admin", namespace=NAMESPACE)
    messages: list[str] = []
    agent = Agent(settings, api, log=messages.append)
    yield agent, repo, admin, server, messages
    agent.stop.set()
    agent.wake.set()


def status(admin) -> dict:
    return admin.get(ConfigMap, STATUS_NAME, namespace=NAMESPACE).data


def test_pull_flow_apply_update_idle_prune_and_drift(lab):
    agent, repo, admin, _, messages = lab
    first = repo.commit(
        {"app.yaml": [deployment("a")], "settings.yaml": [configmap("settings", colour="red")]},
        "v1",
    )
    agent.round()
    live = admin.get(Deployment, "app")
    assert live.spec.template.spec.containers[0].image.endswith("a" * 64)
    managers = {m.manager for m in live.metadata.managedFields}
    assert FIELD_MANAGER in managers, managers
    report = status(admin)
    assert report["lastAppliedRevision"] == first and report["lastError"] == ""
    assert json.loads(report["conditions"])[0]["status"] == "True"
    assert {i["name"] for i in json.loads(report["inventory"])} == {"app", "settings"}
    events = [e for e in admin.list(Event, namespace=NAMESPACE) if e.reason == "FirstApplied"]
    assert events and first[:12] in events[0].message

    # A new commit: the new digest rolls out.
    second = repo.commit({"app.yaml": [deployment("b")]}, "v2")
    agent.round()
    assert admin.get(Deployment, "app").spec.template.spec.containers[0].image.endswith("b" * 64)
    assert status(admin)["lastAppliedRevision"] == second

    # Idle: nothing changed, so one small poll and no apply.
    applied = agent.metrics.applies.labels("ok")._value.get()
    received = agent.metrics.poll_bytes.labels("received")._value.get()
    sent = agent.metrics.poll_bytes.labels("sent")._value.get()
    agent.round()
    assert agent.metrics.applies.labels("ok")._value.get() == applied
    idle = (
        agent.metrics.poll_bytes.labels("received")._value.get()
        - received
        + agent.metrics.poll_bytes.labels("sent")._value.get()
        - sent
    )
    assert 0 < idle < 1024, f"an idle poll costs {idle} bytes with headers"

    # Drift: a hand-made change to a field git owns is put back; a field git does not own stays.
    admin.patch(Deployment, "app", {"spec": {"replicas": 5}})
    admin.patch(Deployment, "app", {"metadata": {"annotations": {"note": "by hand"}}})
    agent.round()
    repaired = admin.get(Deployment, "app")
    assert repaired.spec.replicas == 2 and repaired.metadata.annotations["note"] == "by hand"
    assert status(admin)["driftRepairs"] == "1"
    assert any("drift repaired" in m for m in messages)

    # Prune: what left git goes, but only from the agent's own inventory.
    admin.create(
        ConfigMap.from_dict(configmap("by-hand", a="b") | {"metadata": {"name": "by-hand"}})
    )
    repo.commit({"settings.yaml": None}, "drop settings")
    agent.round()
    names = {c.metadata.name for c in admin.list(ConfigMap, namespace=NAMESPACE)}
    assert "settings" not in names and "by-hand" in names


def test_a_bad_commit_changes_nothing_and_the_last_good_state_stays(lab):
    agent, repo, admin, _, _ = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    # Two objects, the second invalid: the dry-run of the whole commit stops both.
    broken = deployment("c")
    broken["spec"]["replicas"] = "many"
    bad = repo.commit(
        {"app.yaml": [configmap("new", a="b"), broken]}, "bad: replicas is not a number"
    )
    agent.round()
    report = status(admin)
    assert report["lastAppliedRevision"] == good and report["lastAttemptedRevision"] == bad
    assert "Deployment" in report["lastError"]
    assert json.loads(report["conditions"])[0]["reason"] == "InvalidCommit"
    names = {c.metadata.name for c in admin.list(ConfigMap, namespace=NAMESPACE)}
    assert "new" not in names, "nothing of a bad commit is applied"
    assert admin.get(Deployment, "app").spec.template.spec.containers[0].image.endswith("a" * 64)
    warnings = [e for e in admin.list(Event, namespace=NAMESPACE) if e.reason == "InvalidCommit"]
    assert warnings and warnings[0].type == "Warning"

    # Not YAML at all: the same.
    unreadable = repo.commit({"app.yaml": "kind: [unclosed\n"}, "bad: not YAML")
    agent.round()
    assert status(admin)["lastAttemptedRevision"] == unreadable
    assert "not valid YAML" in status(admin)["lastError"]

    # Reaching outside its namespace: refused before anything is applied.
    outside = configmap("escape", a="b")
    outside["metadata"]["namespace"] = "elsewhere"
    repo.commit({"app.yaml": [deployment("a"), outside]}, "bad: outside")
    agent.round()
    assert "outside namespace shop" in status(admin)["lastError"]

    fixed = repo.commit({"app.yaml": [deployment("d")]}, "fixed")
    agent.round()
    assert status(admin)["lastAppliedRevision"] == fixed and status(admin)["lastError"] == ""


def test_the_agent_credential_is_refused_outside_its_namespace(lab):
    agent, *_ = lab
    escape = configmap("escape", a="b")
    escape["metadata"]["namespace"] = "elsewhere"
    with pytest.raises(KubeError) as caught:
        apply_all(agent.api, [escape])
    assert caught.value.status == 403 and not caught.value.transient
    secret_reader = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}
    secret_reader["metadata"]["namespace"] = NAMESPACE
    with pytest.raises(KubeError) as caught:
        apply_all(agent.api, [secret_reader])
    assert caught.value.status == 403, "not even Secrets in its own namespace"


def test_git_down_is_transient_and_the_agent_converges(lab):
    agent, repo, admin, server, _ = lab
    first = repo.commit({"app.yaml": [deployment("a")]}, "v1")
    server.stop()
    wait = agent.round()
    assert wait < agent.settings.interval, "a transient error backs off, shorter than a round"
    report = status(admin)
    assert "does not answer" in report["lastError"]
    assert json.loads(report["conditions"])[0]["reason"] == "Retrying"
    server.start()
    agent.round()
    assert status(admin)["lastAppliedRevision"] == first


def test_an_object_deleted_by_hand_is_made_again_and_no_api_error_ends_the_agent(lab):
    """A drift check's read of a deleted object answered 404, which ended the process; an
    object the agent owns that is missing is drift like any other."""
    agent, repo, admin, _, messages = lab
    repo.commit(
        {"app.yaml": [deployment("a")], "settings.yaml": [configmap("settings", colour="blue")]},
        "v1",
    )
    agent.round()
    admin.delete(ConfigMap, "settings", namespace=NAMESPACE)
    agent.round()  # raised ApiError 404 before
    assert admin.get(ConfigMap, "settings", namespace=NAMESPACE).data == {"colour": "blue"}
    assert any("drift repaired" in m and "settings" in m for m in messages)
    assert json.loads(status(admin)["conditions"])[0]["status"] == "True"


def test_every_round_leaves_a_heartbeat_and_a_good_round_clears_the_last_failure(lab):
    """After an outage, the status said "does not answer" until the next commit, though
    polls succeeded; and nothing told a live agent from one that stopped answering."""
    agent, repo, admin, server, _ = lab
    repo.commit({"app.yaml": [deployment("a")]}, "v1")
    agent.round()
    first_beat = status(admin)["heartbeat"]
    assert status(admin)["interval"] == f"{agent.settings.interval:g}"
    server.stop()
    agent.round()
    assert json.loads(status(admin)["conditions"])[0]["reason"] == "Retrying"
    server.start()
    time.sleep(1.1)  # heartbeats have a resolution of a second
    agent.round()  # no new commit: a poll that works
    report = status(admin)
    condition = json.loads(report["conditions"])[0]
    assert (condition["status"], condition["reason"], report["lastError"]) == (
        "True",
        "Applied",
        "",
    )
    assert report["heartbeat"] > first_beat


def test_a_commit_refused_for_want_of_rights_is_reported_and_drift_is_still_repaired(lab):
    """A commit whose dry-run gets 403 sat in Retrying for ever, and meanwhile replicas
    scaled by hand stayed wrong: it is reported as refused (what, and what to do), the last
    good revision is kept as git had it, and the commit goes through once it may."""
    agent, repo, admin, _, messages = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
              "stringData": {"token": "not for this agent"}}  # fmt: skip
    refused = repo.commit({"app.yaml": [deployment("b")], "secret.yaml": [secret]}, "a Secret")
    agent.round()
    report = status(admin)
    condition = json.loads(report["conditions"])[0]
    assert (condition["status"], condition["reason"]) == ("False", "Refused")
    assert refused[:12] in report["lastError"] and "Secret/shop/token" in report["lastError"]
    assert report["lastAppliedRevision"] == good
    events = [e for e in admin.list(Event, namespace=NAMESPACE) if e.reason == "Refused"]
    assert events and events[0].type == "Warning" and "grant the agent's Role" in events[0].message
    assert agent.round() == pytest.approx(agent.settings.interval, rel=0.2), "not a backoff"

    admin.patch(Deployment, "app", {"spec": {"replicas": 7}})
    agent.round()  # still refused, and the last good revision is put back
    assert admin.get(Deployment, "app").spec.replicas == 2
    image = admin.get(Deployment, "app").spec.template.spec.containers[0].image
    assert image.endswith("a" * 64), "nothing of the refused commit was applied"
    assert sum("refused" in m for m in messages) == 1, "said once, not every round"


def app_layout() -> dict[str, list[dict]]:
    """A real-world app's manifests, each kind in its own file, as such apps ship them."""
    labels = {"app": "app"}
    return {
        "deployment.yaml": [deployment("a")],
        "service.yaml": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app"},
                          "spec": {"selector": labels, "ports": [{"port": 80}]}}],
        "hpa.yaml": [{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": "app"},
                      "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                  "name": "app"},
                               "minReplicas": 2, "maxReplicas": 5}}],
        "pdb.yaml": [{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "app"},
                      "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}],
        "ingress.yaml": [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                          "metadata": {"name": "app"},
                          "spec": {"defaultBackend": {"service": {"name": "app",
                                                                  "port": {"number": 80}}}}}],
        "netpol.yaml": [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "app"},
                         "spec": {"podSelector": {"matchLabels": labels},
                                  "policyTypes": ["Ingress"]}}],
    }  # fmt: skip


def test_a_real_world_app_layout_applies_each_of_its_kinds(lab):
    """HPA, PodDisruptionBudget, Ingress and NetworkPolicy, beside the Deployment and
    Service: each applied under the agent's own Role (an HPA got 403 before)."""
    agent, repo, admin, _, messages = lab
    applied = repo.commit(app_layout(), "an app as it ships")
    agent.round()
    report = status(admin)
    assert report["lastAppliedRevision"] == applied, report["lastError"] or messages[-1]
    kinds = {i["kind"] for i in json.loads(report["inventory"])}
    assert kinds == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                     "Ingress", "NetworkPolicy"}  # fmt: skip


def test_a_kustomization_is_refused_saying_what_to_do(lab):
    agent, repo, admin, _, _ = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    layout = app_layout()
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": sorted(layout)}  # fmt: skip
    bad = repo.commit({**layout, "kustomization.yaml": [kustomization]}, "kustomized")
    agent.round()
    report = status(admin)
    assert report["lastAppliedRevision"] == good and report["lastAttemptedRevision"] == bad
    assert "does not build kustomizations" in report["lastError"]
    assert json.loads(report["conditions"])[0]["reason"] == "InvalidCommit"


def test_a_commit_of_too_many_objects_is_refused_before_any_is_sent(lab):
    agent, repo, admin, _, _ = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    many = [configmap(f"c{i}", n=str(i)) for i in range(501)]
    repo.commit({"many.yaml": many}, "5,000 would take minutes")
    agent.round()
    report = status(admin)
    assert report["lastAppliedRevision"] == good
    assert "more than 500 objects, the most one commit may apply" in report["lastError"]
    names = {c.metadata.name for c in admin.list(ConfigMap, namespace=NAMESPACE)}
    assert "c0" not in names, "nothing of it was applied"


def test_a_cluster_scoped_object_labelled_with_the_namespace_is_refused_before_any_request(lab):
    """A PriorityClass given `namespace: shop` is still cluster-wide: its scope comes from the
    API's own definition of the kind, not from a list of kinds (it sat in Retrying, on 403)."""
    agent, repo, admin, _, _ = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    priority = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "urgent", "namespace": NAMESPACE}, "value": 1000}  # fmt: skip
    repo.commit({"app.yaml": [deployment("b")], "priority.yaml": [priority]}, "cluster-wide")
    agent.round()
    report = status(admin)
    assert report["lastAppliedRevision"] == good
    assert "PriorityClass/shop/urgent" in report["lastError"]
    assert "is cluster-scoped" in report["lastError"]
    assert json.loads(report["conditions"])[0]["reason"] == "InvalidCommit"


def rounds_until(agent, admin, ready: str, seconds: float = 60) -> dict:
    """Rounds of the agent until its Ready condition says `ready` (or time is up): the
    condition, as the status ConfigMap holds it."""
    deadline = time.monotonic() + seconds
    while True:
        agent.round()
        condition = json.loads(status(admin)["conditions"])[0]
        if condition["status"] == ready or time.monotonic() > deadline:
            return condition
        time.sleep(1)


def test_ready_follows_the_rollout_and_says_why_pods_do_not_run(lab):
    """An app whose pods Pod Security refuses showed Ready=True "applied": readiness follows
    the rollout, and the ReplicaSet's reason reaches the status."""
    agent, repo, admin, _, _ = lab
    admin.patch(Namespace, NAMESPACE, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "baseline"}}})  # fmt: skip
    privileged = deployment("a")
    container = privileged["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True}
    applied = repo.commit({"app.yaml": [privileged]}, "a privileged app")
    condition = rounds_until(agent, admin, "False")
    report = status(admin)
    assert report["lastAppliedRevision"] == applied, "applied, as the API server took it"
    assert (condition["status"], condition["reason"]) == ("False", "FailedCreate"), condition
    assert "violates PodSecurity" in report["lastError"], report["lastError"]
    events = [e for e in admin.list(Event, namespace=NAMESPACE) if e.reason == "FailedCreate"]
    assert any(e.source and e.source.component == FIELD_MANAGER for e in events)

    fixed = repo.commit({"app.yaml": [deployment("b")]}, "as Pod Security allows")
    condition = rounds_until(agent, admin, "True")
    assert status(admin)["lastAppliedRevision"] == fixed
    assert condition["status"] == "True", condition


def test_a_signed_webhook_wakes_the_agent_and_a_forged_one_does_not(lab, lab_state):
    agent, repo, admin, server, _ = lab
    repo.commit({"app.yaml": [deployment("a")]}, "v1")
    agent.round()  # applied; the next round is 60 s away
    hook = agent.serve_webhook(0)
    port = hook.server_address[1]
    # The git server's hook calls this agent on every push.
    server.stop()
    woken = GitServer(lab_at(lab_state), hook_url=f"http://127.0.0.1:{port}/", hook_secret="s3cret")
    woken.start()
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        forged = requests.post(
            f"http://127.0.0.1:{port}/",
            data=b"{}",
            headers={signing.HEADER: signing.signature("wrong", b"{}")},
            timeout=5,
        )
        assert forged.status_code == 401
        unsigned = requests.post(f"http://127.0.0.1:{port}/", data=b"{}", timeout=5)
        assert unsigned.status_code == 401
        pushed = repo.commit({"app.yaml": [deployment("e")]}, "v2")
        deadline = time.monotonic() + 30  # far below the 60 s interval: only the hook wakes it
        while status(admin)["lastAppliedRevision"] != pushed:
            assert time.monotonic() < deadline, "the webhook did not wake the agent"
            time.sleep(0.1)
    finally:
        agent.stop.set()
        agent.wake.set()
        thread.join(10)
        hook.shutdown()
    assert not thread.is_alive(), "the agent shuts down cleanly"


def test_metrics_on_loopback(lab):
    agent, repo, *_ = lab
    repo.commit({"app.yaml": [deployment("a")]}, "v1")
    agent.round()
    server = agent.serve_metrics(0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    for metric in (
        'tellit_agent_polls_total{result="ok"} 1.0',
        'tellit_agent_applies_total{result="ok"} 1.0',
        "tellit_agent_round_seconds_count 1.0",
    ):
        assert metric in text, text


def test_a_commit_that_failed_for_a_passing_reason_is_applied_once_it_passes(lab, lab_state):
    """An API server that was down, or that refused for want of rights (fixed by granting
    them, never by a commit), must not make a good commit count as a bad one."""
    agent, repo, admin, _, messages = lab
    good = repo.commit({"app.yaml": [deployment("a")]}, "good")
    agent.round()
    kwok = provider("kwok", lab_at(lab_state))
    kwok.stop("pull")
    try:
        later = repo.commit({"app.yaml": [deployment("b")]}, "while the cluster is down")
        assert agent.round() <= agent.settings.interval * 1.1  # retried, not given up
    finally:
        kwok.start("pull")
    deadline = time.monotonic() + 30  # a restarted API server may refuse for a moment
    while status(admin)["lastAppliedRevision"] != later:
        assert time.monotonic() < deadline, messages[-3:]
        agent.round()
        time.sleep(0.2)
    assert admin.get(Deployment, "app").spec.template.spec.containers[0].image.endswith("b" * 64)

    # Rights taken away, then given back: the same commit goes through without a new one.
    binding = admin.get(RoleBinding, "agent", namespace=NAMESPACE)
    admin.delete(RoleBinding, "agent", namespace=NAMESPACE)
    third = repo.commit({"app.yaml": [deployment("c")]}, "while the agent may not apply")
    agent.round()
    assert "forbidden" in messages[-1] or "403" in messages[-1], messages[-1]
    assert agent.status.reason == "Refused"  # (its status cannot be written without rights)
    binding.metadata.resourceVersion = None
    admin.create(binding)
    deadline = time.monotonic() + 30
    while status(admin)["lastAppliedRevision"] != third:
        assert time.monotonic() < deadline, messages[-3:]
        agent.round()
        time.sleep(0.2)
    assert good != later != third
