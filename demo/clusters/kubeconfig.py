"""kubeconfig provider: clusters a team already has, named by their kubeconfig contexts.

Nothing is ever created or deleted here; `create` only checks that the context answers.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..kube import kubectl_binary
from ..run import CommandError, run
from .base import Cluster, ClusterError


class KubeconfigProvider:
    name = "kubeconfig"

    def __init__(self, kubeconfig: Path | None = None, contexts: list[str] | None = None) -> None:
        default = os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))
        self.kubeconfig = Path(kubeconfig or default.split(os.pathsep)[0])
        self.contexts = contexts

    def _known(self) -> list[str]:
        try:
            config = yaml.safe_load(self.kubeconfig.read_text()) or {}
        except FileNotFoundError:
            raise ClusterError(f"no kubeconfig at {self.kubeconfig}: set KUBECONFIG") from None
        return [c["name"] for c in config.get("contexts") or []]

    def create(self, name: str) -> Cluster:
        if name not in self._known():
            raise ClusterError(
                f"context {name!r} is not in {self.kubeconfig}; known: {', '.join(self._known())}"
            )
        cluster = Cluster(name, self.name, self.kubeconfig, name)
        try:
            run(
                [
                    kubectl_binary(),
                    "--kubeconfig",
                    self.kubeconfig,
                    "--context",
                    name,
                    "get",
                    "--raw",
                    "/readyz",
                ],
                timeout=30,
            )
        except CommandError as error:
            raise ClusterError(f"context {name!r} does not answer: {error}") from None
        return cluster

    def delete(self, name: str) -> None:
        """Existing clusters belong to their team: the lab never deletes them."""

    def list(self) -> list[Cluster]:
        names = self.contexts if self.contexts is not None else self._known()
        return [Cluster(n, self.name, self.kubeconfig, n) for n in names]
