"""The Kubernetes objects that make Flux deliver the lab's app: pure functions, no I/O.

The same GitRepository and Kustomization serve both places Flux runs in the lab: its
controllers built here and run beside a kwok cluster, and Flux's released manifests installed
on kind by readers. Least privilege the Flux way: the Kustomization applies as a ServiceAccount
of the app's namespace (`spec.serviceAccountName`, which the controller impersonates), so what
Flux may change is what that account may change, whatever the controller itself could do.
"""

from __future__ import annotations

import yaml

from demo.core.naming import LABEL

SOURCE_API = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
FLUX_NAMESPACE = "flux-system"

SOURCE = "config"  # the GitRepository: the lab's config repository
KUSTOMIZATION = "app"
APPLIER = "flux-applier"  # the namespaced account the Kustomization applies as
# The accounts the controllers run as on kwok, one each.
SOURCE_CONTROLLER = "flux-source-controller"
KUSTOMIZE_CONTROLLER = "flux-kustomize-controller"
RECEIVER = "flux-receiver"  # the account the lab's webhook receiver patches the source as
FIELD_MANAGER = "kustomize-controller"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def seconds(value: float) -> str:
    """A Go duration Flux accepts, from seconds: whole seconds as such ("15s", as a reader
    would write it), anything finer in whole milliseconds."""
    if float(value).is_integer():
        return f"{int(value)}s"
    return f"{round(value * 1000)}ms"


def git_repository(namespace: str, url: str, interval: float) -> dict:
    return {
        "apiVersion": SOURCE_API,
        "kind": "GitRepository",
        "metadata": {"name": SOURCE, "namespace": namespace, "labels": {LABEL: "true"}},
        "spec": {
            "url": url,
            "interval": seconds(interval),
            "ref": {"branch": "main"},
            "timeout": "20s",
        },
    }


def kustomization(namespace: str, interval: float, path: str = "./deploy") -> dict:
    """Apply the config repository's `path` into `namespace`, as APPLIER, pruning what left
    git; the interval is also how often drift is looked for and repaired."""
    return {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "metadata": {"name": KUSTOMIZATION, "namespace": namespace, "labels": {LABEL: "true"}},
        "spec": {
            "interval": seconds(interval),
            "retryInterval": seconds(interval),
            "sourceRef": {"kind": "GitRepository", "name": SOURCE},
            "path": path,
            "prune": True,
            "targetNamespace": namespace,
            "serviceAccountName": APPLIER,
            "timeout": "60s",
            "wait": False,
        },
    }


def _role(name: str, namespace: str, rules: list[dict]) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": {LABEL: "true"}},
        "rules": rules,
    }


def _binding(name: str, namespace: str, account: str, account_namespace: str) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace, "labels": {LABEL: "true"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": account_namespace}],
    }


def _account(name: str, namespace: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": {LABEL: "true"}},
    }


def controller_access(namespace: str) -> list[dict]:
    """What each controller may do when the lab runs them (kwok), each under its own account,
    watching only `namespace`; nothing anywhere else.

    source-controller: its own kinds and events. kustomize-controller: its own kinds, read
    the sources, events, impersonate APPLIER (the only way it changes the app), and list and
    watch ConfigMaps and Secrets, which it needs to start (it watches them for postBuild and
    decryption references), so its token can read the namespace's Secrets. Flux's released
    install binds kustomize-controller to cluster-admin instead.
    """
    read = ["get", "list", "watch"]
    write = [*read, "create", "update", "patch", "delete"]
    events = {"apiGroups": ["", "events.k8s.io"], "resources": ["events"],
              "verbs": ["create", "patch"]}  # fmt: skip
    source_rules = [
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["*"], "verbs": write},
        events,
    ]
    kustomize_rules = [
        {"apiGroups": ["kustomize.toolkit.fluxcd.io"], "resources": ["*"], "verbs": write},
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["*"], "verbs": read},
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["list", "watch"]},
        events,
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts"],
            "verbs": ["impersonate"],
            "resourceNames": [APPLIER],
        },
    ]
    objects = []
    for account, rules in (
        (SOURCE_CONTROLLER, source_rules),
        (KUSTOMIZE_CONTROLLER, kustomize_rules),
    ):
        objects += [
            _account(account, namespace),
            _role(account, namespace, rules),
            _binding(account, namespace, account, namespace),
        ]
    return objects


def receiver_access(namespace: str) -> list[dict]:
    """The webhook receiver may annotate the one GitRepository, as Flux's Receiver does."""
    rules = [
        {
            "apiGroups": ["source.toolkit.fluxcd.io"],
            "resources": ["gitrepositories"],
            "verbs": ["get", "patch"],
            "resourceNames": [SOURCE],
        }
    ]
    return [
        _account(RECEIVER, namespace),
        _role(RECEIVER, namespace, rules),
        _binding(RECEIVER, namespace, RECEIVER, namespace),
    ]


def requested_at_patch(stamp: str) -> dict:
    """What a Flux Receiver does on a valid webhook: ask for a reconcile now."""
    return {"metadata": {"annotations": {REQUESTED_AT: stamp}}}


def dump(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)
