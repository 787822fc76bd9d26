"""Least-privilege credentials for what runs in the lab's clusters.

A lab namespace enforces Pod Security Admission's `restricted` level, and its ServiceAccount
may manage workloads in that namespace only: so a stolen token can neither leave the namespace
nor start a privileged, host-sharing pod inside it (the tests prove both refusals).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from demo.clusters.base import Cluster
from demo.core.naming import LABEL
from demo.core.paths import write_atomic

# `latest` follows the cluster's own version of the policy, which is the one its API server knows.
POD_SECURITY = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
} | {
    f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "warn", "audit")
}


def namespace_object(namespace: str) -> dict:
    """A namespace of the lab: labelled for cleanup, enforcing the `restricted` pod level."""
    labels = {LABEL: "true", **POD_SECURITY}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": labels},
    }


def lab_namespace(namespace: str) -> str:
    return yaml.safe_dump(namespace_object(namespace), sort_keys=False)


# What the pipeline's and the agents' accounts may do: workloads in their own namespace.
WORKLOAD_RULES = [
    {
        "apiGroups": [""],
        "resources": ["configmaps", "services"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    # What a real app's manifests ship beside its Deployment and Service, all namespaced.
    {
        "apiGroups": ["autoscaling"],
        "resources": ["horizontalpodautoscalers"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]


def account_objects(namespace: str, account: str, rules: list[dict]) -> list[dict]:
    """A ServiceAccount, a Role with `rules` in its namespace, and the binding between them."""
    meta = {"name": account, "namespace": namespace}
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": meta, "rules": rules},
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": account},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    ]


def namespaced_role(namespace: str, account: str) -> str:
    """A ServiceAccount that may manage workloads in its own namespace, and nothing else."""
    objects = [namespace_object(namespace), *account_objects(namespace, account, WORKLOAD_RULES)]
    return yaml.safe_dump_all(objects, sort_keys=False)


def service_account_kubeconfig(
    cluster: Cluster, namespace: str, account: str, path: Path, duration: str = "1h"
) -> Cluster:
    """The cluster as one ServiceAccount sees it: a kubeconfig (0600) holding a short-lived
    token from the TokenRequest API, with the same matching kubectl."""
    token = cluster.kubectl(
        "create", "token", account, "-n", namespace, f"--duration={duration}"
    ).strip()
    admin = yaml.safe_load(cluster.kubectl("config", "view", "--raw", "--minify"))
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
    write_atomic(path, yaml.safe_dump(config))
    return replace(cluster, name=f"{cluster.name}-{account}", kubeconfig=path, context=account)
