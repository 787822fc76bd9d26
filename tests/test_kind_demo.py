"""`make demo PROVIDER=kind` for real: push and pull on three kind clusters, the pull agent
running inside each cluster under its own namespaced ServiceAccount, woken by the webhook.

Carries the `kind` marker; `make test` runs it on the node image built here.
"""

from __future__ import annotations

import json

import pytest
import requests
from lab_support import demo, need_docker

from demo import incluster, signing
from demo.clusters.kind import KindProvider

pytestmark = pytest.mark.kind

# Run inside the agent's pod, with the pod's own token: what may it read?
TRIES = """
from lightkube import ApiError, Client, KubeConfig
from lightkube.resources.core_v1 import ConfigMap, Pod, Secret
api = Client(config=KubeConfig.from_service_account())
for kind, namespace in ((Pod, "kube-system"), (ConfigMap, "default"), (Secret, "shop"),
                        (ConfigMap, "shop")):
    try:
        list(api.list(kind, namespace=namespace))
        print("allowed", kind.__name__, namespace)
    except ApiError as error:
        print("refused", kind.__name__, namespace, error.status.code)
"""


def test_demo_on_kind_pulls_with_agents_inside_the_clusters(lab_state):
    need_docker()
    result = demo(
        "tour", "--provider", "kind", "--clusters", "3", "--interval", "5",
        state=lab_state, timeout=1200,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert result.stdout.count("check: ok") == 3, result.stdout[-4000:]

    owner = KindProvider(root=lab_state / "kind")
    clusters = owner.list()
    assert sorted(c.name for c in clusters) == ["east", "north", "west"]
    secret = (lab_state / "git" / "hook-secret").read_text()
    for cluster in clusters:
        pods = json.loads(
            cluster.kubectl("get", "pods", "-n", "shop", "-l", "app=tellit-agent", "-o", "json")
        )["items"]
        assert [p["status"]["phase"] for p in pods] == ["Running"], "one agent, in the cluster"
        spec = pods[0]["spec"]
        assert spec["serviceAccountName"] == "agent"
        assert spec["containers"][0]["image"].startswith("tellit-lab-python:")

        tried = cluster.kubectl(
            "exec", "-n", "shop", f"deployment/{incluster.AGENT_NAME}", "--",
            "python3", "-c", TRIES, timeout=60,
        )  # fmt: skip
        assert "refused Pod kube-system 403" in tried, tried
        assert "refused ConfigMap default 403" in tried, tried
        assert "refused Secret shop 403" in tried, "not even its own namespace's Secrets"
        assert "allowed ConfigMap shop" in tried, "it may do its job"

        ports = json.loads(
            (lab_state / "services" / f"agent-{cluster.name}" / "ports.json").read_text()
        )
        url = f"http://127.0.0.1:{ports['webhook']}/"
        body = json.dumps({"repository": "config", "refs": []}).encode()
        assert requests.post(url, data=body, timeout=10).status_code == 401, "unsigned: refused"
        signed = {signing.HEADER: signing.signature(secret, body)}
        assert requests.post(url, data=body, headers=signed, timeout=10).status_code == 202
        metrics = requests.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).text
        assert 'tellit_agent_applies_total{result="ok"}' in metrics

    stopped = demo("agent", "stop", state=lab_state, timeout=300)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for cluster in clusters:
        assert "tellit-agent" not in cluster.kubectl(
            "get", "deployments", "-n", "shop", "-o", "name"
        )
