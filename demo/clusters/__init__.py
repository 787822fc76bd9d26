"""One interface for the lab's clusters, whatever runs them (kind, kwok, existing contexts).

Modelled on kwok's runtime abstraction: a provider knows how to create, delete and list its
clusters; everything above it (the pipeline, the agent, the experiments) only sees `Cluster`.
"""

from __future__ import annotations

from .base import LAB_LABEL, LAB_PREFIX, Cluster, ClusterError, Provider, create_all, lab_name

__all__ = [
    "LAB_LABEL",
    "LAB_PREFIX",
    "Cluster",
    "ClusterError",
    "Provider",
    "create_all",
    "lab_name",
    "provider",
]


def provider(name: str, **options) -> Provider:
    """The provider called `name`: kind, kwok or kubeconfig."""
    if name == "kwok":
        from .kwok import KwokProvider

        return KwokProvider(**options)
    if name == "kind":
        from .kind import KindProvider

        return KindProvider(**options)
    if name == "kubeconfig":
        from .kubeconfig import KubeconfigProvider

        return KubeconfigProvider(**options)
    raise ClusterError(f"unknown cluster provider {name!r}: use kind, kwok or kubeconfig")
