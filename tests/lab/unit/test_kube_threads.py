"""The lab reads kubeconfigs and decodes objects in threads (one per cluster): that must not crash.

msgspec 0.22 (under lightkube) built a type's decoding plan lazily and let a second thread use
it half-built: the process died of a segfault, without a traceback, in one `make demo` in
three under load. Each child process here starts eight threads at once on types no thread has
decoded yet, with the interpreter switching threads as often as it can, which crashed 22 of 60
children on 0.22 and none of 150 on 0.23.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILDREN = 25

CHILD = textwrap.dedent(
    """
    import faulthandler, json, sys, threading
    from pathlib import Path

    faulthandler.enable()
    sys.setswitchinterval(1e-6)
    from lightkube.core.decoders import decode_object
    from lightkube.resources.apps_v1 import Deployment

    from demo.clusters.base import Cluster
    from demo.kube.api import client

    kubeconfig = Path(sys.argv[1])
    cluster = Cluster("east", "kwok", kubeconfig, "east", Path("kubectl"))
    deployment = json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "app", "labels": {"app": "app"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}}, "template": {
            "metadata": {"labels": {"app": "app"}},
            "spec": {"containers": [{"name": "app", "image": "app@sha256:" + "0" * 64}]}}},
    }).encode()
    start = threading.Barrier(8)

    def work():
        start.wait()
        client(cluster, "tellit-test")
        assert decode_object(deployment, Deployment).spec.replicas == 2

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    """
)

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: east
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: east
  user: {token: not-a-secret}
contexts:
- name: east
  context: {cluster: east, user: east, namespace: default}
current-context: east
"""


def test_threads_reading_kubeconfigs_and_objects_at_once_do_not_crash(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    for child in range(CHILDREN):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(kubeconfig)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (
            f"child {child + 1} of {CHILDREN} ended with {done.returncode}:\n{done.stderr[-3000:]}"
        )
