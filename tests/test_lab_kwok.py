"""Real control planes: three kwok clusters in parallel, rollouts, RBAC, and a clean delete."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml
from conftest import need

from demo import provision
from demo.clusters import create_all, provider
from demo.clusters.base import Cluster
from demo.kube import kubectl, namespaced_role, service_account_kubeconfig
from demo.run import CommandError
from demo.services import listening

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


def api_port(cluster: Cluster) -> int:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    return urlsplit(config["clusters"][0]["cluster"]["server"]).port


@pytest.fixture
def kwok(lab_state):
    need(not provision.missing(), "the lab's Kubernetes tools (run `make provision`)")
    return provider("kwok")


def test_three_clusters_rollouts_rbac_and_clean_delete(kwok, lab_state):
    names = ["east", "west", "north"]
    messages: list[str] = []
    clusters = create_all(kwok, names, progress=messages.append)
    assert [c.name for c in clusters] == names
    assert {c.name for c in kwok.list()} == set(names)
    assert any("3 cluster(s) ready" in m for m in messages)
    assert kwok.create("east") == clusters[0], "create is idempotent"

    for cluster in clusters:
        assert "v1.36.3" in kubectl(cluster, "version", "-o", "yaml")
        nodes = kubectl(cluster, "get", "nodes", "-o", "name").split()
        assert len(nodes) == 2
        kubectl(cluster, "create", "namespace", "shop")
        kubectl(
            cluster, "apply", "-f", "-", input=DEPLOYMENT.format(namespace="shop", digest="a" * 64)
        )
        kubectl(cluster, "rollout", "status", "deployment/app", "-n", "shop", "--timeout=120s")
        pods = yaml.safe_load(kubectl(cluster, "get", "pods", "-n", "shop", "-o", "yaml"))
        assert len(pods["items"]) == 3
        for pod in pods["items"]:
            assert pod["spec"]["nodeName"] in {n.removeprefix("node/") for n in nodes}
            ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
            assert ready["Ready"] == "True"

    east = clusters[0]
    kubectl(east, "apply", "-f", "-", input=namespaced_role("team-a", "agent"))
    kubectl(east, "create", "namespace", "team-b")
    agent_config = service_account_kubeconfig(east, "team-a", "agent", lab_state / "agent.yaml")
    assert oct(agent_config.stat().st_mode & 0o777) == "0o600"
    agent = Cluster("east-agent", "kwok", agent_config, "agent")
    kubectl(agent, "apply", "-n", "team-a", "-f", "-", input=CONFIGMAP)
    assert "settings" in kubectl(agent, "get", "configmaps", "-n", "team-a", "-o", "name")
    with pytest.raises(CommandError, match="forbidden"):
        kubectl(agent, "apply", "-n", "team-b", "-f", "-", input=CONFIGMAP)
    with pytest.raises(CommandError, match="forbidden"):
        kubectl(agent, "get", "secrets", "-n", "team-a")

    ports = {c.name: api_port(c) for c in clusters}
    assert all(listening(port) for port in ports.values())
    for name in names:
        kwok.delete(name)
    assert kwok.list() == []
    for name in names:
        assert kwok.processes(name) == [], f"{name} left processes"
        assert not listening(ports[name]), f"{name} left its API port open"
        assert not (lab_state / "kwok" / "clusters" / f"tellit-{name}").exists()
        assert not kwok.kubeconfig(name).exists()
