"""Credentials: where each one lives in each model, and what a thief holding it can do.

The lab's own credentials are taken from where the lab keeps them (the pipeline's, an agent's,
each Flux controller's) and tried, one request each, against the lab: change the app in every
cluster, read the app namespace's Secrets, read another namespace, grant themselves more
rights, push to the config repository. Each request is answered by the real API server or git
server; the status code is the result. A request that was allowed is undone at once.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
from lightkube import KubeConfig
from lightkube.config.client_adapter import Client as http_client
from lightkube.config.client_adapter import ConnectionParams

from demo.clusters.base import Cluster
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.git import WorkTree, author_env
from demo.delivery.flux.objects import KUSTOMIZE_CONTROLLER, SOURCE_CONTROLLER
from demo.delivery.lab_delivery import CONFIG_REPO, NAMESPACE, Delivery
from demo.experiments.measure import kwok_lab
from demo.experiments.results import Result
from demo.services.git.accesslog import Access, read_log

NAME = "credentials"
TITLE = "What a stolen credential opens, tried against the lab"
CLAIM = (
    "Push keeps a key to every cluster in the CI system, so one stolen CI secret opens them"
    " all; pull keeps each cluster's key inside that cluster, and the CI system needs none."
)
PATCH = {"metadata": {"annotations": {"tellit.example/stolen-credential": "tried"}}}
UNDO = {"metadata": {"annotations": {"tellit.example/stolen-credential": None}}}
ESCALATE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "stolen-credential", "namespace": NAMESPACE},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
    "subjects": [{"kind": "User", "name": "thief"}],
}
ACTIONS = (
    "change the app",
    "read the app namespace's Secrets",
    "read another namespace",
    "grant itself more rights",
    "push to the config repository",
)


@dataclass(frozen=True)
class Holder:
    """A credential as a thief would find it: what it is, where it lives, its files."""

    key: str
    series: str
    lives: str  # where the lab keeps it (and where a reader's setup would)
    kubeconfigs: dict[str, Path]  # cluster name -> kubeconfig holding the token
    git_push: bool  # whether it carries the config repository's push token
    impersonate: str = ""  # a Kubernetes account it may act as (Flux's applier)


def run(context: LabContext, size: str, provider: str) -> Result:
    root, progress = context.state, context.log
    if provider != "kwok":
        raise LabError(
            "the credentials experiment runs on kwok clusters (the same requests answer the"
            " same on kind: the API server decides, not the pods)",
            "run it with --provider kwok",
        )
    result = Result(
        NAME, TITLE, CLAIM, provider, size,
        {"clusters": 3, "actions": list(ACTIONS), "namespace": NAMESPACE},
        started=time.perf_counter(),
    )  # fmt: skip
    progress("credentials: 3 kwok clusters and a first push")
    lab, _ = kwok_lab(context, 3, provider)
    holders = [pipeline_holder(lab)]
    progress("credentials: the lab's agents, then Flux, each holding its cluster's token")
    lab.start_agents(interval=300)
    holders.append(agent_holder(lab))
    lab.stop_agents()
    lab.start_agents(interval=300, kind="flux")
    holders += flux_holders(lab, root)
    for holder in holders:
        progress(f"credentials: trying {holder.series}")
        result.samples += attempts(lab, holder)
    lab.stop_agents()
    result.parameters["holders"] = {h.series: h.lives for h in holders}
    result.summary = summarise_holders(result.samples, holders)
    return result


def pipeline_holder(lab: Delivery) -> Holder:
    views = {c.name: lab.credential(c, "pipeline").kubeconfig for c in lab.clusters}
    return Holder(
        "pipeline",
        "a stolen CI secret (the pipeline's)",
        "in the CI system: one token per cluster, and the config repository's push token",
        views,
        git_push=True,
    )


def agent_holder(lab: Delivery) -> Holder:
    first = lab.clusters[0]
    path = lab.root / "credentials" / "agent" / f"{first.name}.yaml"
    if not path.is_file():
        raise LabError(f"the agent of {first.name} holds no token at {path}")
    return Holder(
        "ours",
        f"a stolen agent token (the lab's agent, {first.name})",
        f"inside {first.name} only (on kind, mounted in the agent's pod); git is read anonymously",
        {first.name: path},
        git_push=False,
    )


def flux_holders(lab: Delivery, root: Path) -> list[Holder]:
    first = lab.clusters[0]
    folder = root / "flux" / first.name
    applier = f"system:serviceaccount:{NAMESPACE}:flux-applier"
    return [
        Holder(
            f"flux-{part}",
            f"a stolen Flux {part}-controller token ({first.name})",
            f"inside {first.name} only (each controller's own ServiceAccount)",
            {first.name: folder / f"{account}.kubeconfig"},
            git_push=False,
            impersonate=applier if part == "kustomize" else "",  # it may act as the applier
        )
        for part, account in (("kustomize", KUSTOMIZE_CONTROLLER), ("source", SOURCE_CONTROLLER))
    ]


def _config(kubeconfig: Path, server_of: Cluster | None = None):
    """The stolen token's config; pointed at another cluster's API server when asked."""
    config = KubeConfig.from_file(kubeconfig).get()
    if server_of is not None:
        other = KubeConfig.from_file(server_of.kubeconfig).get(context_name=server_of.context)
        config = config._replace(cluster=other.cluster, fname=other.fname)
    return config


def _request(config, method: str, path: str, impersonate: str = "", **options) -> int:
    """One request's status code. Raw HTTP rather than lightkube's typed client: a thief's
    request is judged by its status alone, and impersonation needs a header of its own."""
    headers = {"Impersonate-User": impersonate} if impersonate else {}
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    with http_client(config, ConnectionParams(timeout=httpx2.Timeout(10))) as http:
        return http.request(method, path, headers=headers, **options).status_code


def _try(config, holder: Holder, method: str, path: str, undo=None, **options) -> int:
    """As a thief would: with the token's own rights, then as the account it may impersonate;
    the first answer that allowed, else the last refusal. Whatever was allowed is undone."""
    status = 0
    for who in ("", holder.impersonate) if holder.impersonate else ("",):
        status = _request(config, method, path, who, **options)
        if 200 <= status < 300:
            if undo:
                method, path, *body = undo
                _request(config, method, path, who, **({"json": body[0]} if body else {}))
            break
    return status


def _sample(holder: Holder, action: str, target: str, status: int) -> dict:
    return {
        "series": holder.series,
        "holder": holder.key,
        "action": action,
        "target": target,
        "status": status,
        "allowed": 200 <= status < 300,
    }


def attempts(lab: Delivery, holder: Holder) -> list[dict]:
    """Every action, tried once per cluster where it is a cluster's (with the holder's token
    for that cluster, or its only token sent to another cluster's API server)."""
    own = next(iter(holder.kubeconfigs.values()))
    deployment = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/app"
    bindings = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings"
    samples = []
    for cluster in lab.clusters:
        path = holder.kubeconfigs.get(cluster.name)
        config = _config(path) if path else _config(own, server_of=cluster)
        status = _try(config, holder, "PATCH", deployment, ("PATCH", deployment, UNDO), json=PATCH)
        samples.append(_sample(holder, "change the app", cluster.name, status))
    config, first = _config(own), lab.clusters[0].name
    tries = {
        "read the app namespace's Secrets": ("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets"),
        "read another namespace": ("GET", "/apis/apps/v1/namespaces/kube-system/deployments"),
    }
    for action, (method, path) in tries.items():
        samples.append(_sample(holder, action, first, _try(config, holder, method, path)))
    undo = ("DELETE", f"{bindings}/stolen-credential")
    status = _try(config, holder, "POST", bindings, undo, json=ESCALATE)
    samples.append(_sample(holder, "grant itself more rights", first, status))
    samples.append(
        _sample(holder, "push to the config repository", CONFIG_REPO, git_push(lab, holder))
    )
    return samples


def git_push(lab: Delivery, holder: Holder) -> int:
    """Push a branch of no consequence to the config repository with the holder's git token
    (or none); the git server's answer, read from its access log. The branch is removed."""
    url = lab.url(CONFIG_REPO, token=holder.git_push)
    env = author_env("thief", "thief@tellit.invalid")
    branch = f"stolen-{holder.key}"
    with tempfile.TemporaryDirectory(prefix="tellit-thief-") as work:
        tree = WorkTree.clone(lab.url(CONFIG_REPO), Path(work), env)
        tree.commit_all("stolen", allow_empty=True)
        before = len(_pushes(lab))
        # Refused is the answer a least-privilege token should get.
        pushed = tree.try_git("push", "-q", url, f"HEAD:refs/heads/{branch}")
        answers = _pushes(lab)[before:]
        if pushed.ok:
            tree.push(url, f":refs/heads/{branch}")
    if not answers:
        raise LabError(f"the git server logged no answer to {holder.series}'s push")
    return answers[-1].status  # git asks without credentials first, then with them


def _pushes(lab: Delivery) -> list[Access]:
    """The git server's access log entries of pushes (receive-pack), oldest first."""
    return [a for a in read_log(lab.git.log_file) if "receive-pack" in a.service]


def summarise_holders(samples: list[dict], holders: list[Holder]) -> list[dict]:
    """Per holder: how many of the actions tried were allowed, and in how many clusters it
    could change the app."""
    rows = []
    for holder in holders:
        mine = [s for s in samples if s["holder"] == holder.key]
        allowed = sum(s["allowed"] for s in mine)
        clusters = sum(s["allowed"] for s in mine if s["action"] == "change the app")
        rows.append(
            {"series": holder.series, "unit": "requests allowed", "n": len(mine),
             "median": allowed, "min": allowed, "max": allowed, "clusters_opened": clusters,
             "lives": holder.lives}
        )  # fmt: skip
    return rows
