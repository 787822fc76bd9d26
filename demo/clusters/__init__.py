"""One interface for the lab's clusters, whatever runs them (kind, kwok, existing contexts).

Modelled on kind's and kwok's provider abstractions: a provider answers for its own checks,
clusters, health and cleanup; everything above it only sees `Cluster`.
"""

from __future__ import annotations

from demo.clusters.base import Cluster, ClusterError, Health, Provider, create_all

__all__ = ["NAMES", "Cluster", "ClusterError", "Health", "Provider", "create_all", "provider"]

NAMES = ("kind", "kwok", "kubeconfig")


def provider(name: str, **options) -> Provider:
    """The provider called `name`: kind, kwok or kubeconfig."""
    if name == "kwok":
        from demo.clusters.kwok import KwokProvider

        return KwokProvider(**options)
    if name == "kind":
        from demo.clusters.kind.provider import KindProvider

        return KindProvider(**options)
    if name == "kubeconfig":
        from demo.clusters.kubeconfig import KubeconfigProvider

        return KubeconfigProvider(**options)
    raise ClusterError(f"unknown cluster provider {name!r}", "use kind, kwok or kubeconfig")
