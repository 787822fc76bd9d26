"""kubeconfig provider: clusters a team already has, named by their kubeconfig contexts.

Nothing is ever created or deleted here; `create` only checks that the context answers and
that the kubectl the lab would use is within the version-skew policy of its API server.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from demo.clusters.base import (
    Cluster,
    ClusterError,
    Health,
    HostProvider,
    api_health,
    skew_problem,
)
from demo.core.checks import Check
from demo.core.context import LabContext
from demo.core.naming import env
from demo.core.run import CommandError
from demo.toolchain import provision


def default_kubectl(tools: Path) -> Path:
    """`TELLIT_KUBECTL`, else the lab's own kubectl (built by `make provision` into `tools`),
    else PATH's."""
    chosen = env("KUBECTL")
    if chosen:
        return Path(chosen)
    built = provision.binaries(tools)["kubectl"]
    if built.is_file():
        return built
    found = shutil.which("kubectl")
    if found is None:
        raise ClusterError(
            "no kubectl found for the kubeconfig provider",
            "install kubectl within one minor version of your clusters, or set TELLIT_KUBECTL",
        )
    return Path(found)


class KubeconfigProvider(HostProvider):
    """Clusters the reader already has: the lab neither loads images onto them nor reaches
    their nodes, and its pull agents run on the host (demo.delivery)."""

    name = "kubeconfig"

    def __init__(
        self,
        lab: LabContext,  # like every provider's; it keeps nothing in the state
        kubeconfig: Path | str | None = None,
        contexts: list[str] | None = None,
        kubectl: Path | None = None,
    ) -> None:
        self.tools = lab.tools
        default = os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))
        self.kubeconfig = Path(kubeconfig or default.split(os.pathsep)[0])
        self.contexts = contexts
        self.kubectl = kubectl

    def _known(self) -> list[str]:
        try:
            config = yaml.safe_load(self.kubeconfig.read_text()) or {}
        except FileNotFoundError as error:
            raise ClusterError(
                f"no kubeconfig at {self.kubeconfig}", "set KUBECONFIG to your kubeconfig file"
            ) from error
        except yaml.YAMLError as error:
            raise ClusterError(
                f"{self.kubeconfig} is not a readable kubeconfig", "check the file's YAML"
            ) from error
        return [c["name"] for c in config.get("contexts") or [] if isinstance(c, dict)]

    def _cluster(self, context: str) -> Cluster:
        return Cluster(
            context,
            self.name,
            self.kubeconfig,
            context,
            self.kubectl or default_kubectl(self.tools),
        )

    def prepare(self, log: Callable[[str], None]) -> None:
        """Nothing to get: the clusters and their kubectl are the team's."""

    def names(self, count: int) -> list[str]:
        """Every context of the kubeconfig (or those chosen), whatever `count` says."""
        return list(self.contexts) if self.contexts is not None else self._known()

    def available(self) -> list[Check]:
        try:
            known = self._known()
        except ClusterError as error:
            return [Check("kubeconfig", False, error.message, error.fix)]
        return [
            Check(
                "kubeconfig",
                bool(known),
                f"{len(known)} context(s) in {self.kubeconfig}",
                "add your clusters' contexts to it",
            )
        ]

    def create(self, name: str) -> Cluster:
        known = self._known()
        if name not in known:
            raise ClusterError(
                f"context {name!r} is not in {self.kubeconfig}",
                f"use one of: {', '.join(known) or '(none)'}",
            )
        cluster = self._cluster(name)
        try:
            versions = json.loads(cluster.kubectl("version", "-o", "json", timeout=30))
        except (CommandError, ValueError) as error:
            raise ClusterError(
                f"context {name!r} does not answer", "check that the cluster is up and reachable"
            ) from error
        client = versions.get("clientVersion", {}).get("gitVersion", "")
        server = versions.get("serverVersion", {}).get("gitVersion", "")
        problem = skew_problem(client, server) if client and server else None
        if problem:
            raise ClusterError(
                f"context {name!r}: {problem}",
                f"set TELLIT_KUBECTL to a kubectl of {server}'s minor version",
            )
        return cluster

    def health(self, cluster: Cluster) -> Health:
        return api_health(cluster)

    def delete(self, name: str) -> None:
        """Existing clusters belong to their team: the lab never deletes them."""

    def list(self) -> list[Cluster]:
        names = self.contexts if self.contexts is not None else self._known()
        return [self._cluster(n) for n in names]

    def cleanup(self, log: Callable[[str], None]) -> list[str]:
        """Nothing to remove: these clusters are the team's, not the lab's."""
        return []
