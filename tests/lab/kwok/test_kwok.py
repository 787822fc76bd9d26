"""Real control planes: three kwok clusters in parallel, rollouts, least privilege, repair of a
broken cluster, and a delete that returns only once every process and port is gone."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
import yaml
from support.lab import lab_at, need_lab_tools

from demo.clusters import ClusterError, create_all, provider
from demo.clusters.base import Cluster
from demo.core import versions
from demo.core.paths import tools_dir
from demo.core.processes import finished, listening
from demo.core.run import CommandError
from demo.kube.accounts import lab_namespace, namespaced_role, service_account_kubeconfig
from demo.toolchain import provision

pytestmark = pytest.mark.provisioned

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: {namespace}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      containers:
      - name: app
        image: 127.0.0.1:5000/lab/app@sha256:{digest}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"
# What a stolen agent token would try: a pod that owns the node.
HOSTILE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: takeover
spec:
  replicas: 1
  selector:
    matchLabels: {app: takeover}
  template:
    metadata:
      labels: {app: takeover}
    spec:
      hostPID: true
      containers:
      - name: root
        image: busybox:1.35.0
        securityContext: {privileged: true}
        volumeMounts: [{name: host, mountPath: /host}]
      volumes:
      - name: host
        hostPath: {path: /}
"""
# The same app as the restricted level wants it: it must still roll out.
RESTRICTED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: polite
spec:
  replicas: 1
  selector:
    matchLabels: {app: polite}
  template:
    metadata:
      labels: {app: polite}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: app
        image: busybox:1.35.0
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
"""


def api_port(cluster: Cluster) -> int:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    return urlsplit(config["clusters"][0]["cluster"]["server"]).port


@pytest.fixture
def kwok(lab_state):
    need_lab_tools()
    return provider("kwok", lab_at(lab_state))


def test_three_clusters_rollouts_rbac_and_clean_delete(kwok, lab_state):
    names = ["east", "west", "north"]
    messages: list[str] = []
    clusters = create_all(kwok, names, progress=messages.append)
    assert [c.name for c in clusters] == names
    assert {c.name for c in kwok.list()} == set(names)
    assert any("3 cluster(s) ready" in m for m in messages)
    assert kwok.create("east") == clusters[0], "create is idempotent"

    for cluster in clusters:
        assert cluster.kubectl_path == provision.binaries(tools_dir())["kubectl"]
        health = kwok.health(cluster)
        assert health.ready and health.version == versions.KUBERNETES, health
        nodes = cluster.kubectl("get", "nodes", "-o", "name").split()
        assert len(nodes) == 2
        cluster.kubectl("create", "namespace", "shop")
        cluster.kubectl(
            "apply", "-f", "-", input=DEPLOYMENT.format(namespace="shop", digest="a" * 64)
        )
        cluster.kubectl("rollout", "status", "deployment/app", "-n", "shop", "--timeout=120s")
        pods = yaml.safe_load(cluster.kubectl("get", "pods", "-n", "shop", "-o", "yaml"))
        assert len(pods["items"]) == 3
        for pod in pods["items"]:
            assert pod["spec"]["nodeName"] in {n.removeprefix("node/") for n in nodes}
            ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
            assert ready["Ready"] == "True"

    east = clusters[0]
    east.kubectl("apply", "-f", "-", input=namespaced_role("team-a", "agent"))
    east.kubectl("create", "namespace", "team-b")
    agent = service_account_kubeconfig(east, "team-a", "agent", lab_state / "agent.yaml")
    assert oct(agent.kubeconfig.stat().st_mode & 0o777) == "0o600"
    agent.kubectl("apply", "-n", "team-a", "-f", "-", input=CONFIGMAP)
    assert "settings" in agent.kubectl("get", "configmaps", "-n", "team-a", "-o", "name")
    with pytest.raises(CommandError, match="forbidden"):
        agent.kubectl("apply", "-n", "team-b", "-f", "-", input=CONFIGMAP)
    with pytest.raises(CommandError, match="forbidden"):
        agent.kubectl("get", "secrets", "-n", "team-a")

    # Delete, then at once: every process has ended (not merely turned zombie) and every port
    # is closed. Before the fix, kube-apiserver's port still answered here.
    ports = {c.name: api_port(c) for c in clusters}
    processes = {name: kwok.processes(name) for name in names}
    assert all(len(p) == 5 for p in processes.values()), processes
    assert all(listening(port) for port in ports.values())
    for name in names:
        kwok.delete(name)
        assert all(finished(p) for p in processes[name]), f"{name} left processes running"
        assert not listening(ports[name]), f"{name} left its API port open"
    assert kwok.list() == []
    for name in names:
        assert kwok.processes(name) == []
        assert not (lab_state / "kwok" / "clusters" / f"tellit-{name}").exists()
        assert not kwok.kubeconfig(name).exists()


def test_the_agent_credential_cannot_start_a_privileged_pod(kwok, lab_state):
    """Lab namespaces enforce Pod Security Admission's restricted level."""
    cluster = kwok.create("psa")
    cluster.kubectl("apply", "-f", "-", input=namespaced_role("team-a", "agent"))
    labels = yaml.safe_load(cluster.kubectl("get", "namespace", "team-a", "-o", "yaml"))
    assert labels["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    agent = service_account_kubeconfig(cluster, "team-a", "agent", lab_state / "agent.yaml")

    # The Deployment object itself is accepted with a warning; every pod it asks for is refused.
    agent.kubectl("apply", "-n", "team-a", "-f", "-", input=HOSTILE)
    # kubectl wait fails at once while nothing matches: first let the ReplicaSet appear.
    deadline = time.monotonic() + 60
    while not cluster.kubectl("get", "rs", "-n", "team-a", "-l", "app=takeover", "-o", "name"):
        assert time.monotonic() < deadline, "the Deployment made no ReplicaSet"
        time.sleep(0.1)
    cluster.kubectl(
        "wait",
        "-n",
        "team-a",
        "--for=condition=ReplicaFailure",
        "replicaset",
        "-l",
        "app=takeover",
        "--timeout=60s",
    )
    replicasets = json.loads(
        cluster.kubectl("get", "replicaset", "-n", "team-a", "-l", "app=takeover", "-o", "json")
    )
    failure = next(
        c for c in replicasets["items"][0]["status"]["conditions"] if c["type"] == "ReplicaFailure"
    )
    assert "violates PodSecurity" in failure["message"] and "restricted" in failure["message"]
    for forbidden in ("privileged", "hostPID", "hostPath"):
        assert forbidden in failure["message"], failure["message"]
    pods = cluster.kubectl("get", "pods", "-n", "team-a", "-l", "app=takeover", "-o", "name")
    assert pods.strip() == "", "no pod of the hostile Deployment may exist"

    # Nor may the agent create the pod directly, and even an administrator is refused there.
    hostile_pod = yaml.safe_load(HOSTILE)["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "direct"}, **hostile_pod}
    pod["metadata"] = {"name": "direct"}
    with pytest.raises(CommandError, match="forbidden"):
        agent.kubectl("create", "-n", "team-a", "-f", "-", input=json.dumps(pod))
    with pytest.raises(CommandError, match="violates PodSecurity"):
        cluster.kubectl("create", "-n", "team-a", "-f", "-", input=json.dumps(pod))

    # A workload that keeps to the restricted level still rolls out for the agent.
    agent.kubectl("apply", "-n", "team-a", "-f", "-", input=RESTRICTED)
    cluster.kubectl("rollout", "status", "deployment/polite", "-n", "team-a", "--timeout=120s")
    assert yaml.safe_load(lab_namespace("x"))["metadata"]["labels"][
        "pod-security.kubernetes.io/warn"
    ] == ("restricted")


def test_a_broken_cluster_is_repaired_or_reported(kwok, lab_state):
    cluster = kwok.create("fragile")
    port = api_port(cluster)

    # The API server killed: health says so, and create brings it back.
    apiserver = next(p for p in kwok.processes("fragile") if p.name() == "kube-apiserver")
    apiserver.kill()
    apiserver.wait(10)
    health = kwok.health(cluster)
    assert not health.ready and "does not answer" in health.detail and "demo up" in health.fix
    assert kwok.create("fragile") == cluster
    assert kwok.health(cluster).ready and listening(port)

    # Its kubeconfig removed: create writes it again from kwokctl's copy.
    cluster.kubeconfig.unlink()
    assert "kubeconfig" in kwok.health(cluster).detail
    kwok.create("fragile")
    assert kwok.health(cluster).ready
    assert oct(cluster.kubeconfig.stat().st_mode & 0o777) == "0o600"

    # Beyond repair (its etcd data gone): create says what to do instead of pretending.
    for process in kwok.processes("fragile"):
        process.kill()
    for folder in (kwok.folder("fragile") / "pids", kwok.folder("fragile") / "pki"):
        for item in folder.iterdir():
            item.unlink()
    with pytest.raises(ClusterError) as caught:
        kwok.create("fragile")
    assert "python -m demo down" in caught.value.fix
