"""One interface for the lab's clusters, whatever runs them (kind, kwok, existing contexts).

Modelled on kind's and kwok's provider abstractions: a provider answers for its own checks,
clusters, health and cleanup; everything above it only sees `Cluster`.
"""

from __future__ import annotations

from demo.clusters.base import Cluster, ClusterError, Health, Provider, ProviderInfo, create_all
from demo.core.context import LabContext

__all__ = [
    "NAMES",
    "Cluster",
    "ClusterError",
    "Health",
    "Provider",
    "ProviderInfo",
    "create_all",
    "info",
    "provider",
]

NAMES = ("kind", "kwok", "kubeconfig")


def _provider_class(name: str) -> type:
    if name == "kwok":
        from demo.clusters.kwok import KwokProvider

        return KwokProvider
    if name == "kind":
        from demo.clusters.kind.provider import KindProvider

        return KindProvider
    if name == "kubeconfig":
        from demo.clusters.kubeconfig import KubeconfigProvider

        return KubeconfigProvider
    raise ClusterError(f"unknown cluster provider {name!r}", "use kind, kwok or kubeconfig")


def provider(name: str, lab: LabContext, **options) -> Provider:
    """The provider called `name` (kind, kwok or kubeconfig) for the lab `lab`."""
    return _provider_class(name)(lab, **options)


def info(name: str) -> ProviderInfo:
    """What the provider called `name` can do, without making one (no state folder read)."""
    return _provider_class(name).info
