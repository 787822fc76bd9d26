"""One kind cluster on its own, made by pytest-kind (the project's route to kind in tests) with
the kind, kubectl and node image the lab pins, and nothing of the lab around it: it runs the
Kubernetes of the version line, and a pod starts on it.

Beside `make demo PROVIDER=kind` (test_kind_e2e.py), this says whether a failure there is the
node image's or the lab's.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from pytest_kind import KindCluster
from support.lab import lab_at, need_docker

from demo.clusters.kind.provider import KindProvider
from demo.core import versions
from demo.core.context import silent
from demo.lab.teardown import down
from demo.toolchain.images import ensure_base_image

pytestmark = pytest.mark.kind

NAME = "tellit-pinned"  # the lab's prefix: a teardown that finds it left over removes it


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    """pytest-kind's KindCluster at the lab's pins, in the environment the lab gives kind here
    (the docker shim where `docker run --privileged` is refused, the lab's network)."""
    need_docker()
    lab = lab_at(tmp_path_factory.mktemp("pinned") / "lab")
    owner = KindProvider(lab)
    owner.prepare(silent)  # builds nothing on a machine where make test has provisioned
    setup = owner.setup()
    folder = lab.state / "pytest-kind"
    folder.mkdir(parents=True)
    try:
        with pytest.MonkeyPatch.context() as patch, contextlib.chdir(folder):
            for key, value in setup.env().items():
                patch.setenv(key, value)
            cluster = KindCluster(
                NAME, image=setup.image, kind_path=Path(setup.kind),
                kubectl_path=Path(setup.kubectl),
            )  # fmt: skip
            try:
                cluster.create(config_file=owner.config_file())
                # kind waits for nothing: a pod made before the namespace's default
                # ServiceAccount exists is refused.
                cluster.kubectl("wait", "--for=create", "serviceaccount/default", "--timeout=90s")
                yield cluster, setup
            finally:
                cluster.delete()
    finally:
        assert down(lab) == [], "the pinned cluster left something behind"


def test_the_cluster_runs_the_kubernetes_of_the_version_line(pinned):
    cluster, setup = pinned
    wanted = versions.KUBERNETES if setup.mode == "local" else versions.KIND_NODE_KUBERNETES
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert [n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes] == [wanted]
    served = json.loads(cluster.kubectl("version", "-o", "json"))
    assert served["serverVersion"]["gitVersion"] == wanted
    assert served["clientVersion"]["gitVersion"] == versions.KIND_KUBECTL


def test_a_pod_starts_from_an_image_loaded_onto_the_node(pinned):
    cluster, _ = pinned
    image = ensure_base_image(log=silent)
    cluster.load_docker_image(image)
    cluster.kubectl(
        "run", "probe", f"--image={image}", "--image-pull-policy=Never", "--restart=Never",
        "--command", "--", "true",
    )  # fmt: skip
    cluster.kubectl(
        "wait", "pod/probe", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=180s"
    )
