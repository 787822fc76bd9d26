"""A bench for a track: the lab's first cluster, its node where the provider gives one, the
app's image on its nodes where pods run."""

from __future__ import annotations

from collections.abc import Callable

from demo.core import docker
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.lab.record import LabRecord
from demo.toolchain.images import build_app
from demo.workshop.minilabs.base import Bench, Track

IMAGE = "tellit-minilab-app:v1"


def bench_for(
    lab: LabContext, track: Track, say: Callable[[str], None], cluster_name: str = ""
) -> Bench:
    root = lab.state
    record = LabRecord.required(root)
    owner = record.owner(lab)
    clusters = record.clusters_of(lab)
    chosen = [c for c in clusters if c.name == cluster_name] if cluster_name else clusters[:1]
    if not chosen:
        raise LabError(
            f"the lab has no cluster {cluster_name!r}",
            f"choose one of {', '.join(c.name for c in clusters)} (--cluster NAME)",
        )
    cluster = chosen[0]
    image = ""
    if owner.info.runs_pods:
        build_app(IMAGE, f"minilab ({track.name})", labels=docker.lab_labels(root))
        owner.load_image(cluster.name, IMAGE)
        image = IMAGE
    return Bench(
        cluster=cluster,
        namespace=f"minilab-{track.name}",
        folder=root / "minilabs" / track.name,
        say=say,
        runs_pods=bool(image),
        node=owner.node(cluster.name) if owner.info.node_access else None,
        image=image,
    )
