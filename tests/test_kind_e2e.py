"""The readers' path for real: kind clusters on this machine, pods pulling from the lab's registry.

Carries the `kind` marker (it needs kind's node image: published, or built here by `make
node-image`); `make test` runs it. One module-wide lab of three single-node clusters created in
parallel, as `make demo PROVIDER=kind` makes them, shared by the tests below and torn down at the
end with a check that nothing is left.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from lab_support import need_docker

from demo import images, kindnet, nodeimage
from demo.clusters import create_all
from demo.clusters.kind import KindProvider
from demo.teardown import docker_leftovers, down

pytestmark = pytest.mark.kind
NAMES = ["east", "west", "north"]
# Host-wide settings a kind node could change: the ones kubelet writes, and systemd's defaults.
HOST_SYSCTLS = [
    *nodeimage.KUBELET_SYSCTLS,
    "kernel/pid_max",
    "kernel/sysrq",
    "fs/protected_regular",
    "fs/inotify/max_user_watches",
]


def read_sysctls() -> dict[str, str]:
    values = {}
    for name in HOST_SYSCTLS:
        path = Path("/proc/sys") / name
        if path.exists():
            values[name] = path.read_text().strip()
    return values


@pytest.fixture(scope="module")
def kind_lab(tmp_path_factory):
    need_docker()
    state = tmp_path_factory.mktemp("kind") / "lab"
    before = read_sysctls()
    owner = KindProvider(root=state / "kind")
    messages: list[str] = []
    owner.prepare(messages.append)
    clusters = create_all(owner, NAMES, progress=messages.append)
    yield owner, clusters, before, state
    assert down(state, log=messages.append) == [], "down left something behind"


def test_three_clusters_are_ready_on_the_labs_network(kind_lab):
    owner, clusters, _, _ = kind_lab
    assert sorted(c.name for c in owner.list()) == sorted(NAMES)
    assert owner.create(NAMES[0]) == clusters[0], "creating an existing cluster re-uses it"
    for cluster in clusters:
        health = owner.health(cluster)
        assert health.ready, health.detail
        pods = json.loads(cluster.kubectl("get", "pods", "-n", "kube-system", "-o", "json"))
        phases = {
            p["metadata"]["name"].rsplit("-", 2)[0]: p["status"]["phase"] for p in pods["items"]
        }
        assert all(phase == "Running" for phase in phases.values()), phases
        assert any(name.startswith("coredns") for name in phases), "CoreDNS runs in every cluster"
        for node in owner.nodes(cluster.name):
            networks = subprocess.run(
                ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", node],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert f'"{owner.network}"' in networks


def test_nodes_pull_the_app_from_the_labs_registry_and_it_answers(kind_lab):
    owner, clusters, _, _ = kind_lab
    images.ensure_base_image()
    address = kindnet.start_registry(
        clusters,
        lambda c, m: c.kubectl("apply", "-f", "-", input=m),
        image=owner.registry_image(),
        network=owner.network,
    )
    local = images.build_app("tellit-app:kind-e2e", "kind-e2e")
    pushed = f"{address}/lab/app:kind-e2e"
    subprocess.run(["docker", "tag", local, pushed], check=True)
    subprocess.run(["docker", "push", "--quiet", pushed], check=True, capture_output=True)
    manifest = (
        (Path(images.APP) / "deploy" / "app.yaml")
        .read_text()
        .replace("image: app", f"image: {pushed}")
    )
    for cluster in clusters:
        cluster.kubectl("apply", "-f", "-", input=manifest)
    for cluster in clusters:
        cluster.kubectl("rollout", "status", "deployment/app", "--timeout=180s", timeout=200)
        assert "local-registry-hosting" in cluster.kubectl(
            "get", "configmap", "-n", "kube-public", "-o", "name"
        )
        assert "kind-e2e" in answer_through_port_forward(cluster)


def answer_through_port_forward(cluster) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    forward = subprocess.Popen(
        cluster.kubectl_command(
            "port-forward", "--address", "127.0.0.1", "service/app", f"{port}:80"
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


def test_the_host_keeps_its_own_sysctls(kind_lab):
    _, _, before, _ = kind_lab
    assert read_sysctls() == before, "a kind node changed a host-wide setting"


def test_the_labs_network_and_registry_are_labelled_for_down(kind_lab):
    owner, _, _, _ = kind_lab
    found = " ".join(docker_leftovers())
    network_id = subprocess.run(
        ["docker", "network", "inspect", "--format", "{{.Id}}", owner.network],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert network_id[:12] in found, "down finds the clusters' network by its label"
