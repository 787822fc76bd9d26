"""The cluster interface and what every provider shares."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Everything the lab creates carries this prefix (names) or label (containers, objects), so
# cleanup finds all of it and nothing else.
LAB_PREFIX = "tellit-"
LAB_LABEL = "tell-it-with-a-meme/lab"
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class ClusterError(RuntimeError):
    """A cluster could not be created, reached or deleted; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    """A cluster as the rest of the lab sees it: a name and how to reach it."""

    name: str  # the short name the reader chose, e.g. "east"
    provider: str
    kubeconfig: Path
    context: str

    @property
    def kubectl_env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}


class Provider(Protocol):
    name: str

    def create(self, name: str) -> Cluster:
        """Create one cluster, or return it if it already exists (create is idempotent)."""

    def delete(self, name: str) -> None:
        """Delete one cluster the lab created; deleting a missing one is not an error."""

    def list(self) -> list[Cluster]:
        """The clusters of this provider that the lab owns."""


def lab_name(name: str) -> str:
    """The full name of a cluster the lab creates: the lab's prefix plus the reader's name."""
    if not NAME.match(name):
        raise ClusterError(
            f"cluster name {name!r} is not valid: use up to 32 lowercase letters, digits and"
            " dashes, starting and ending with a letter or digit"
        )
    return f"{LAB_PREFIX}{name}"


def create_all(
    provider: Provider,
    names: list[str],
    progress: Callable[[str], None] = print,
) -> list[Cluster]:
    """Create clusters in parallel, reporting each as it becomes ready."""
    started = time.perf_counter()
    for name in names:
        lab_name(name)  # check every name before starting anything

    def one(name: str) -> Cluster:
        began = time.perf_counter()
        cluster = provider.create(name)
        progress(f"cluster {name} ({provider.name}) ready in {time.perf_counter() - began:.1f} s")
        return cluster

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        clusters = list(pool.map(one, names))
    progress(f"{len(clusters)} cluster(s) ready in {time.perf_counter() - started:.1f} s")
    return clusters
