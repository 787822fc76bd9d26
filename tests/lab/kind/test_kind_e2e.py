"""The readers' path for real: `make demo PROVIDER=kind` on three kind clusters, then checks.

Carries the `kind` marker; `make test` runs it on the node image built here (or the published
one). One lab for the whole module, as a reader gets it from `make demo`: three single-node
clusters created in parallel on the lab's network, the app pushed by the pipeline through the
lab's registry (kind's local-registry recipe), then pulled by an agent running inside each
cluster, a change by hand repaired. The tests then read what runs, try the agent's credential
from inside its pod, check the host kept its own sysctls, and tear it all down with a check
that nothing is left.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from support.kind_lab import KIND_LAB, KindLab, read_sysctls, volumes
from support.lab import demo, lab_at, need_docker, tour_rows

from demo.clusters.kind.provider import KindProvider
from demo.core import signing
from demo.delivery.agent import incluster
from demo.lab.teardown import docker_leftovers, down
from demo.workshop.minilabs import TRACKS, controlplane

pytestmark = pytest.mark.kind
NAMES = ["east", "north", "west"]
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


@dataclass(frozen=True)
class Made:
    returncode: int
    stdout: str


@pytest.fixture(scope="module")
def kind_lab(request):
    """The lab `make demo PROVIDER=kind` made (started at collection, see kind_lab.py)."""
    need_docker()
    lab = request.config.stash.get(KIND_LAB, None) or KindLab.start()
    code, output = lab.wait()
    try:
        yield Made(code, output), KindProvider(lab_at(lab.state)), lab.before, lab.state
    finally:
        assert down(lab_at(lab.state)) == [], "down left something behind"
        assert volumes() <= lab.volumes_before, "down left the nodes' volumes behind"


def test_make_demo_tells_the_whole_story_on_kind(kind_lab):
    make, _, _, state = kind_lab
    assert make.returncode == 0, make.stdout[-4000:] + make.stderr[-2000:]
    assert make.stdout.count("check: ok") == 3, make.stdout[-4000:]
    rows = tour_rows(state)
    assert [row["step"] for row in rows] == ["push"] * 3 + ["pull"] * 3, rows
    assert all(row["digest"].startswith("sha256:") for row in rows), rows
    assert "put back by its agent" in make.stdout


def test_three_clusters_are_ready_on_the_labs_network(kind_lab):
    _, owner, _, _ = kind_lab
    clusters = owner.list()
    assert sorted(c.name for c in clusters) == NAMES
    assert owner.create(clusters[0].name) == clusters[0], "creating an existing one re-uses it"
    for cluster in clusters:
        health = owner.health(cluster)
        assert health.ready, health.detail
        pods = json.loads(cluster.kubectl("get", "pods", "-n", "kube-system", "-o", "json"))
        phases = {p["metadata"]["name"]: p["status"]["phase"] for p in pods["items"]}
        assert set(phases.values()) == {"Running"}, phases
        assert any(name.startswith("coredns") for name in phases), "CoreDNS runs in every cluster"
        for node in owner.nodes(cluster.name):
            networks = subprocess.run(
                ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", node],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert f'"{owner.network}"' in networks


def test_the_app_pulled_from_the_labs_registry_answers(kind_lab):
    _, owner, _, state = kind_lab
    # The version the agents applied last (the pull step's commit), as the table shows it.
    pulled = {row["version"] for row in tour_rows(state) if row["step"] == "pull"}
    assert len(pulled) == 1, pulled
    version = pulled.pop()
    each_cluster(owner, lambda cluster: check_app(cluster, version))


def each_cluster(owner, check) -> None:
    """Run `check` on every cluster at once (the clusters are independent; it saves time)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(check, owner.list()))


def check_app(cluster, version: str) -> None:
    assert "local-registry-hosting" in cluster.kubectl(
        "get", "configmap", "-n", "kube-public", "-o", "name"
    )
    # The agent applied the new version; its rollout may still be under way.
    cluster.kubectl(
        "rollout", "status", "-n", "shop", "deployment/app", "--timeout=120s", timeout=150
    )
    app = json.loads(cluster.kubectl("get", "deployment", "app", "-n", "shop", "-o", "json"))
    image = app["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("localhost:5001/") and "@sha256:" in image, image
    assert app["status"].get("availableReplicas") == 2, app["status"]
    page = answer_through_port_forward(cluster, serving_pod(cluster, image))
    assert f"Running version {version}" in page, page[:300]


def serving_pod(cluster, image: str) -> str:
    """A ready pod of the app's current version: the old version's pods may still be
    terminating (busybox's httpd waits out its grace period), and a port-forward to the
    Service could pick one of them."""
    pods = json.loads(cluster.kubectl("get", "pods", "-n", "shop", "-l", "app=app", "-o", "json"))
    for pod in pods["items"]:
        ready = all(s.get("ready") for s in pod["status"].get("containerStatuses", [{}]))
        current = pod["spec"]["containers"][0]["image"] == image
        if current and ready and not pod["metadata"].get("deletionTimestamp"):
            return pod["metadata"]["name"]
    raise AssertionError(f"no ready pod of {image} in {cluster.name}")


def answer_through_port_forward(cluster, pod: str) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    forward = subprocess.Popen(
        cluster.kubectl_command(
            "port-forward", "-n", "shop", "--address", "127.0.0.1", f"pod/{pod}", f"{port}:8080"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
            except requests.ConnectionError:
                if time.monotonic() > deadline or forward.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_the_agent_runs_inside_with_least_privilege_and_hears_the_webhook(kind_lab):
    _, owner, _, state = kind_lab
    secret = (state / "git" / "hook-secret").read_text()
    each_cluster(owner, lambda cluster: check_agent(cluster, state, secret))


def check_agent(cluster, state, secret: str) -> None:
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

    ports = json.loads((state / "services" / f"agent-{cluster.name}" / "ports.json").read_text())
    url = f"http://127.0.0.1:{ports['webhook']}/"
    body = json.dumps({"repository": "config", "refs": []}).encode()
    assert requests.post(url, data=body, timeout=10).status_code == 401, "unsigned: refused"
    signed = {signing.HEADER: signing.signature(secret, body)}
    assert requests.post(url, data=body, headers=signed, timeout=10).status_code == 202
    metrics = requests.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).text
    assert 'tellit_agent_applies_total{result="ok"}' in metrics


def test_the_host_keeps_its_own_sysctls(kind_lab):
    _, _, before, _ = kind_lab
    assert read_sysctls() == before, "a kind node changed a host-wide setting"


def test_down_finds_the_labs_network_and_registry_by_their_label(kind_lab):
    _, owner, _, state = kind_lab
    found = " ".join(docker_leftovers(state))
    for kind, name in (("network", owner.network), ("container", "tellit-registry")):
        ident = subprocess.run(
            ["docker", kind, "inspect", "--format", "{{.Id}}", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert ident[:12] in found, f"down finds the {kind} {name}"


def test_agent_stop_takes_the_agents_out_of_the_clusters(kind_lab):
    _, owner, _, state = kind_lab
    stopped = demo("agent", "stop", state=state, timeout=300)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for cluster in owner.list():
        deployments = cluster.kubectl("get", "deployments", "-n", "shop", "-o", "name")
        assert "tellit-agent" not in deployments and "deployment.apps/app" in deployments


# The mini-labs of parts 2 and 3 (`python -m demo lab --track`), last, on the lab's west
# cluster: the secrets track restarts its API server, the control-plane track stops it.
@pytest.mark.parametrize("track", list(TRACKS))
def test_each_minilab_track_passes_its_own_checks_on_kind(kind_lab, track):
    _, owner, _, state = kind_lab
    walked = demo(
        "lab", "--track", track, "--provider", "kind", "--cluster", "west", "--yes",
        state=state, timeout=900,
    )  # fmt: skip
    assert walked.returncode == 0, walked.stdout[-4000:] + walked.stderr[-2000:]
    steps = TRACKS[track].steps
    assert walked.stdout.count("check: ok") == len(steps), walked.stdout[-4000:]
    assert "skipped" not in walked.stdout
    node = KindProvider(lab_at(state)).node("west")
    if track == "secrets":  # read etcd here, not through the track: the Secret is ciphertext
        value = node.etcd_value("/registry/secrets/minilab-secrets/db")
        assert value.startswith(b"k8s:enc:secretbox:v1:key1:")
        assert b"s3cret-" not in value
    if track == "control-plane":  # and the track put the control plane back
        manifests = node.sh("ls /etc/kubernetes/manifests").split()
        assert manifests == sorted(f"{p}.yaml" for p in controlplane.PARTS)
        west = next(c for c in owner.list() if c.name == "west")
        assert owner.health(west).ready
