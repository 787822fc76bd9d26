"""kubectl against the lab's clusters, and least-privilege credentials for what runs in them."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from . import provision
from .clusters.base import Cluster
from .run import run


def kubectl_binary() -> str:
    built = provision.binaries()["kubectl"]
    return str(built) if built.is_file() else (shutil.which("kubectl") or "kubectl")


def kubectl(cluster: Cluster, *args: str, input: str | None = None, timeout: float = 120) -> str:
    return run(
        [
            kubectl_binary(),
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--context",
            cluster.context,
            *args,
        ],
        input=input,
        timeout=timeout,
    )


def namespaced_role(namespace: str, account: str) -> str:
    """A ServiceAccount that may manage workloads in its own namespace, and nothing else."""
    return f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}
  labels:
    tell-it-with-a-meme/lab: "true"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {account}
  namespace: {namespace}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {account}
  namespace: {namespace}
rules:
- apiGroups: [""]
  resources: [configmaps, services]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {account}
  namespace: {namespace}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {account}
subjects:
- kind: ServiceAccount
  name: {account}
  namespace: {namespace}
"""


def service_account_kubeconfig(
    cluster: Cluster, namespace: str, account: str, path: Path, duration: str = "1h"
) -> Path:
    """A kubeconfig holding a short-lived token of one ServiceAccount (TokenRequest API)."""
    token = kubectl(
        cluster, "create", "token", account, "-n", namespace, f"--duration={duration}"
    ).strip()
    admin = yaml.safe_load(kubectl(cluster, "config", "view", "--raw", "--minify"))
    server = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster.name, "cluster": server}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [
            {
                "name": account,
                "context": {"cluster": cluster.name, "user": account, "namespace": namespace},
            }
        ],
        "current-context": account,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config))
    return path
