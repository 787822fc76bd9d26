"""The app every track runs: the lab's demo page, two replicas, behind a ClusterIP Service."""

from __future__ import annotations

import yaml
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod, Service

from demo.clusters.base import Cluster
from demo.core.errors import LabError
from demo.core.waits import until
from demo.workshop.minilabs.base import RESTRICTED, Bench

PORT = 8080
PAGE = "Running version"  # what the app's page says, whichever version runs


def deployment(bench: Bench, replicas: int = 2) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": bench.namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": bench.image or "tellit-minilab-app:v1",
                            "imagePullPolicy": "Never",  # loaded into the nodes, never pulled
                            "ports": [{"containerPort": PORT}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": PORT}},
                            "securityContext": RESTRICTED,
                        }
                    ]
                },
            },
        },
    }


def service(bench: Bench) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "app", "namespace": bench.namespace},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "app"},
            "ports": [{"port": PORT, "targetPort": PORT}],
        },
    }


def run_app(bench: Bench, replicas: int = 2) -> None:
    bench.apply(bench.namespace_object(), deployment(bench, replicas), service(bench))
    until(lambda: ready(bench) == replicas or None, f"{replicas} ready replicas of the app")


def address(bench: Bench) -> str:
    """The Service's cluster IP: one stable address in front of the ready pods."""
    return bench.api().get(Service, "app").spec.clusterIP or ""


def ready(bench: Bench) -> int:
    found = bench.api().get(Deployment, "app")
    return (found.status.readyReplicas if found.status else 0) or 0


def one_shot(
    bench: Bench,
    name: str,
    command: list[str],
    as_cluster: Cluster | None = None,
    env: list[dict] | None = None,
    timeout: float = 90,
) -> str:
    """Run a pod to completion in the track's namespace and return what it printed; created
    and read as `as_cluster` (a ServiceAccount's view of the cluster) when given."""
    acting = as_cluster or bench.cluster
    acting.kubectl("delete", "pod", name, "-n", bench.namespace, "--ignore-not-found", "--wait")
    container = {
        "name": name,
        "image": bench.image or "tellit-minilab-app:v1",
        "imagePullPolicy": "Never",
        "command": command,
        "securityContext": RESTRICTED,
        **({"env": env} if env else {}),
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": bench.namespace},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }
    acting.kubectl("apply", "-f", "-", input=yaml.safe_dump(pod, sort_keys=False))
    phase = until(
        lambda: found if (found := _phase(bench, name)) in ("Succeeded", "Failed") else None,
        f"the pod {name} to finish",
        timeout,
    )
    log = acting.kubectl("logs", "-n", bench.namespace, name)
    if phase != "Succeeded":
        raise LabError(f"the pod {name} failed: {log.strip()[-300:] or 'no output'}")
    return log


def _phase(bench: Bench, name: str) -> str:
    pod = bench.api().get(Pod, name)
    return pod.status.phase if pod.status else ""
