"""Every version the lab pins, in one place: caches are keyed by them, `python -m demo versions`
prints them, and the site's versions box is drawn from what that command writes
(docs/lab/versions.json). No other file of the project spells one (a test reads them all)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

KUBERNETES = "v1.37.2"
ETCD = "v3.7.3"
KWOK = "v0.8.0"
# For readers' laptops: kind, its own default node image (sigs.k8s.io/kind's
# pkg/apis/config/defaults/image.go at that tag, pinned by digest), and a kubectl of that minor.
KIND = "v0.33.0"
KIND_NODE_IMAGE = (
    "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"
)
KIND_NODE_KUBERNETES = KIND_NODE_IMAGE.split("@")[0].split(":")[1]
KIND_KUBECTL = KUBERNETES  # the same line as the lab here: the newest patch of that minor

# Where `kindest/node` cannot be pulled, the lab builds its own node image
# (`demo.clusters.kind.nodeimage`) for KUBERNETES, with these components and kind's node files
# from the same KIND readers run.
CONTAINERD = "v2.3.7"
CRICTL = "v1.37.0"
COREDNS = "v1.14.6"

# Flux as readers know it: a Flux v2 release, whose manifests readers install on kind, and the
# version of the two controllers the lab uses that the release ships (github.com/fluxcd/flux2's
# manifests/bases at that tag). Where nothing can be pulled (kwok), the lab builds the same two
# controllers, at the same version, from their Go modules.
FLUX_RELEASE = "v2.9.5"
FLUX = "v1.9.5"
FLUX_INSTALL_URL = f"https://github.com/fluxcd/flux2/releases/download/{FLUX_RELEASE}/install.yaml"


def minor(version: str) -> str:
    """`v1.36.3` -> `v1.36`."""
    return ".".join(version.split(".")[:2])


def flux_name(controllers: str, release: str = "") -> str:
    """Flux as readers know it: `Flux v2.9.5 (source-controller v1.9.5, kustomize-controller
    v1.9.5)`. Controllers v1.N ship in Flux v2.N, so without a release the line is named."""
    line = release or "v2." + controllers.split(".")[1]
    return f"Flux {line} (source-controller {controllers}, kustomize-controller {controllers})"


FLUX_NAME = flux_name(FLUX, FLUX_RELEASE)  # on kind and on kwok alike


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    where: str  # where the lab uses it, in a reader's words
    note: str = ""


def pins() -> list[Pin]:
    """The versions table: what readers run first, then what this machine's lab runs."""
    digest = KIND_NODE_IMAGE.split("@")[1]
    return [
        Pin("kind", KIND, "readers' laptops and workshops (PROVIDER=kind)"),
        Pin(
            "kindest/node",
            KIND_NODE_KUBERNETES,
            "each kind cluster's node (kind's own default image)",
            f"pinned by digest {digest[:19]}…",
        ),
        Pin("kubectl", KIND_KUBECTL, "readers' kubectl, downloaded with kind"),
        Pin(
            "Flux on kind",
            FLUX_NAME,
            "installed from its released manifests (AGENT=flux)",
        ),
        Pin(
            "Kubernetes",
            KUBERNETES,
            "kwok's control plane, and the node image built where kindest/node cannot be pulled",
        ),
        Pin("etcd", ETCD, "kwok's control plane"),
        Pin("kwok", KWOK, "simulated nodes (PROVIDER=kwok)"),
        Pin("containerd", CONTAINERD, "the node image built here"),
        Pin("crictl", CRICTL, "the node image built here"),
        Pin("CoreDNS", COREDNS, "the node image built here"),
        Pin(
            "Flux on kwok",
            FLUX_NAME,
            "the same controllers, built from their Go modules",
        ),
    ]


def document() -> dict:
    """What `python -m demo versions --write` keeps in docs/lab/versions.json for the site: the
    line each place runs (`#!lab versions:readers:kubernetes` on a page), Flux's install, and
    the table of every pin."""
    return {
        "readers": {
            "kind": KIND,
            "kubernetes": KIND_NODE_KUBERNETES,
            "kubectl": KIND_KUBECTL,
            "flux": FLUX_NAME,
        },
        "lab": {
            "kind": KIND,
            "kubernetes": KUBERNETES,
            "kwok": KWOK,
            "flux": FLUX_NAME,
        },
        "flux": {"release": FLUX_RELEASE, "controllers": FLUX, "install_url": FLUX_INSTALL_URL},
        "pins": [asdict(pin) for pin in pins()],
    }
