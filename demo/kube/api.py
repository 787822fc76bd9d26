"""Talking to a cluster's API through lightkube: typed objects, server-side apply, dry-run.

Why a client library rather than kubectl: the pipeline and the agent need server-side apply
with their own field manager, server-side dry-run of a whole commit, and HTTP status codes
(403, 422, 409, 5xx) to tell a refused request from a broken one, not text in stderr.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx2
from lightkube import ApiError, Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.core.exceptions import LoadResourceError

from demo.clusters.base import Cluster
from demo.core.errors import LabError

# Status codes that say "try again later" rather than "this will never work".
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class KubeError(LabError):
    """A request to a cluster failed; `transient` tells a retry from a fix."""

    def __init__(self, message: str, fix: str = "", transient: bool = False, status: int = 0):
        super().__init__(message, fix)
        self.transient = transient
        self.status = status


def client(cluster: Cluster, field_manager: str, namespace: str | None = None) -> Client:
    """A client for `cluster` as its kubeconfig (and context) describe it."""
    try:
        config = KubeConfig.from_file(cluster.kubeconfig).get(context_name=cluster.context)
    except Exception as error:  # lightkube raises its own ConfigError and plain OSErrors
        raise KubeError(
            f"cannot read the kubeconfig of {cluster.name} ({cluster.kubeconfig})",
            "`python -m demo status` shows whether the cluster is healthy",
        ) from error
    return Client(
        config=config,
        namespace=namespace,
        field_manager=field_manager,
        timeout=httpx2.Timeout(10.0),
        trust_env=False,
    )


def in_cluster_client(field_manager: str, namespace: str | None = None) -> Client:
    """A client from the pod's own ServiceAccount (the agent inside a kind cluster)."""
    return Client(
        config=KubeConfig.from_service_account(),
        namespace=namespace,
        field_manager=field_manager,
        timeout=httpx2.Timeout(10.0),
    )


def describe(error: Exception, what: str) -> KubeError:
    """A KubeError for `error`, transient or terminal, saying what was being done."""
    if isinstance(error, ApiError):
        status = error.status.code or 0
        reason = error.status.message or error.status.reason or "no reason given"
        return KubeError(
            f"{what}: {status} {reason}",
            "it is retried" if status in TRANSIENT_STATUS else "fix the manifest or the rights",
            transient=status in TRANSIENT_STATUS,
            status=status,
        )
    if isinstance(error, httpx2.TransportError):
        return KubeError(
            f"{what}: the API server does not answer ({type(error).__name__})",
            "it is retried; `python -m demo status` shows the cluster",
            transient=True,
        )
    raise error


@dataclass(frozen=True)
class ObjectKey:
    """What identifies an object the lab manages: its kind's API and its name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @classmethod
    def of(cls, manifest: dict) -> ObjectKey:
        metadata = manifest.get("metadata") or {}
        return cls(
            manifest.get("apiVersion", ""),
            manifest.get("kind", ""),
            metadata.get("namespace", ""),
            metadata.get("name", ""),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


def typed(manifest: dict):
    """The lightkube object for a manifest; a terminal KubeError for an unknown kind."""
    try:
        return from_dict(manifest)
    except (LoadResourceError, TypeError, ValueError, AttributeError) as error:
        raise KubeError(
            f"{ObjectKey.of(manifest)}: not an object this lab can apply ({error})",
            "use apiVersion and kind of a built-in Kubernetes resource",
        ) from error


class Scopes:
    """Whether a kind is namespaced, as the API server's discovery says (GET /api/v1 or
    /apis/GROUP/VERSION, which every authenticated account may read): asked once per group
    and version, then kept. A list of cluster-wide kinds misses some (PriorityClass, say), and
    an object's `namespace` field does not make a cluster-wide kind namespaced."""

    def __init__(self, api: Client) -> None:
        self.api = api
        self._http = None
        self._known: dict[str, dict[str, bool]] = {}

    def namespaced(self, api_version: str, kind: str) -> bool:
        if api_version not in self._known:
            self._known[api_version] = self._discover(api_version)
        scope = self._known[api_version].get(kind)
        if scope is None:
            raise KubeError(
                f"the API server serves no kind {kind} in {api_version}",
                "use the apiVersion and kind of a resource this cluster has",
            )
        return scope

    def _discover(self, api_version: str) -> dict[str, bool]:
        from lightkube.config.client_adapter import Client as HttpClient
        from lightkube.config.client_adapter import ConnectionParams

        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        try:
            if self._http is None:  # lightkube's own connection, with the client's credentials
                self._http = HttpClient(self.api.config, ConnectionParams())
            answer = self._http.get(path)
        except httpx2.TransportError as error:
            raise KubeError(
                f"discovery of {api_version}: the API server does not answer"
                f" ({type(error).__name__})", "it is retried", transient=True,
            ) from error  # fmt: skip
        if answer.status_code == 404:
            return {}  # no such group or version here: every kind of it is unknown
        if answer.status_code != 200:
            raise KubeError(
                f"discovery of {api_version}: {answer.status_code}",
                "it is retried", transient=answer.status_code in TRANSIENT_STATUS,
                status=answer.status_code,
            )  # fmt: skip
        return {
            r["kind"]: bool(r["namespaced"])
            for r in answer.json().get("resources", [])
            if "/" not in r.get("name", "/")  # subresources (deployments/scale) aside
        }


def content(obj) -> dict:
    """What an object says, without metadata and status: what drift is measured on."""
    data = obj if isinstance(obj, dict) else obj.to_dict()
    return {k: v for k, v in data.items() if k not in ("metadata", "status")}


def apply_all(api: Client, manifests: Iterable[dict], dry_run: bool = False) -> list:
    """Server-side apply every manifest (forcing our ownership of the fields we set)."""
    results = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        try:
            results.append(api.apply(typed(manifest), force=True, dry_run=dry_run))
        except (ApiError, httpx2.TransportError) as error:
            verb = "dry-run of" if dry_run else "apply of"
            raise describe(error, f"{verb} {key}") from error
    return results
