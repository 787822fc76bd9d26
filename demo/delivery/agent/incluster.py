"""The pull agent inside a kind cluster: its Deployment, the git it reads, the way in to it.

On kind, pods really run, so the agent runs where a pull agent belongs: in the cluster, as a
Deployment under its namespaced ServiceAccount, using the pod's own token (never a kubeconfig
from outside). Three things connect it to the lab, all on loopback or the lab's network:

- git: the lab's git server listens on the host's loopback, which pods cannot reach. A second,
  read-only front of the same repositories runs as a container on the clusters' network
  (`tellit-git-mirror`): the same server code, the repositories mounted read-only, no push
  token at all. Pushes still go to the host's server, whose hook runs the pipeline.
- webhook and metrics: the agent listens on 127.0.0.1 inside its pod; a `kubectl
  port-forward` per cluster (a lab service) brings both to the host's loopback, where the git
  server's hook calls the webhook, as it does for agents running on the host.
- its image: the lab's Python image (`demo.toolchain.pyimage`), loaded into each node with `kind
  load`, never pulled (`imagePullPolicy: Never`).

The manifests are pure functions, so they are unit-tested; running them is in
`demo.delivery.lab_delivery`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from demo.core import docker
from demo.core.entrypoints import module
from demo.core.naming import LABEL, PREFIX
from demo.delivery.agent.settings import SECRET_VARIABLE, Launch, Settings
from demo.delivery.agent.settings import argv as agent_argv

MIRROR_NAME = f"{PREFIX}git-mirror"
MIRROR_PORT = 8080
AGENT_NAME = "tellit-agent"
SECRET_NAME = "tellit-agent-webhook"
METRICS_PORT = 9100  # inside the pod, on 127.0.0.1
WEBHOOK_PORT = 9101


READY_PROBE = (
    "import socket\n"
    f"for port in ({METRICS_PORT}, {WEBHOOK_PORT}):\n"
    "    socket.create_connection(('127.0.0.1', port), 2).close()\n"
)


def mirror_url(repo: str) -> str:
    """A repository's URL as pods on the clusters' network see it."""
    return f"http://{MIRROR_NAME}:{MIRROR_PORT}/{repo}.git"


def mirror_run_command(
    image: str, repos: Path, network: str, labels: Sequence[str] = ()
) -> list[str]:
    """`docker run` of the read-only git front: on the clusters' network only, published
    nowhere, as the repositories' owner (git refuses repositories of another user), with a
    read-only root, and no accounts at all (`--clone-only`), so that no push can authenticate."""
    owner = repos.stat()
    options = [
        "--detach", "--restart=unless-stopped", "--name", MIRROR_NAME,
        *labels, "--network", network,
        "--user", f"{owner.st_uid}:{owner.st_gid}",
        "--read-only", "--tmpfs", "/tmp", "--volume", f"{repos}:/srv/repos:ro",
    ]  # fmt: skip
    # The image runs `python3 -m`. All addresses of its own network namespace: pods reach it
    # over the clusters' Docker network, and it is published on no host address.
    return docker.run_argv(
        image, module("gitserver"), "--root", "/srv/repos", "--port", str(MIRROR_PORT),
        "--bind", "0.0.0.0", "--clone-only", "--log", "/tmp/access.log", options=options,
    )  # fmt: skip


def agent_manifest(
    image: str,
    cluster: str,
    namespace: str,
    repo_url: str,
    interval: float,
    secret: str,
    account: str = "agent",
) -> str:
    """The agent's webhook Secret and Deployment. It keeps to Pod Security's `restricted`
    level, which the lab's namespaces enforce; its only writable place is an emptyDir."""
    settings = Settings(cluster, repo_url, namespace, Path("/tmp/work"), interval=interval)
    launch = Launch(metrics_port=METRICS_PORT, webhook_port=WEBHOOK_PORT)  # in the cluster
    args = [module("agent"), *agent_argv(settings, launch)]
    secret_object = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": namespace, "labels": {LABEL: "true"}},
        "stringData": {"secret": secret},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": AGENT_NAME,
            "namespace": namespace,
            "labels": {"app": AGENT_NAME, LABEL: "true"},
        },
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},  # never two agents applying at once
            "selector": {"matchLabels": {"app": AGENT_NAME}},
            "template": {
                "metadata": {"labels": {"app": AGENT_NAME}},
                "spec": {
                    "serviceAccountName": account,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "agent",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "args": args,
                            "env": [
                                {"name": "HOME", "value": "/tmp"},
                                {
                                    "name": SECRET_VARIABLE,
                                    "valueFrom": {
                                        "secretKeyRef": {"name": SECRET_NAME, "key": "secret"}
                                    },
                                },
                            ],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            # Ready once both ports answer inside the pod: kubectl
                            # port-forward gives up on a connection refused there.
                            "readinessProbe": {
                                "exec": {"command": ["python3", "-c", READY_PROBE]},
                                "periodSeconds": 1,  # the rollout waits for it
                            },
                            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                            "volumeMounts": [{"name": "work", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "work", "emptyDir": {}}],
                },
            },
        },
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [secret_object, deployment]})


def port_forward_args(metrics: int, webhook: int) -> list[str]:
    """kubectl's arguments that bring the agent's two ports to the host's loopback."""
    return [
        "port-forward",
        f"deployment/{AGENT_NAME}",
        "--address",
        "127.0.0.1",
        f"{metrics}:{METRICS_PORT}",
        f"{webhook}:{WEBHOOK_PORT}",
    ]
