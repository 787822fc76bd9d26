"""Mini-labs for parts 2 and 3: short tracks on one cluster, each step checked on the cluster.

`python -m demo lab --track services|secrets|control-plane` walks an attendee through one
track: what the step shows, what they would type, then a check that reads the cluster itself.
The tracks need real pods (kind); on kwok, whose nodes are simulated, the steps that need no
pod and no node still run, and the others say why they are skipped.
"""

from __future__ import annotations

from demo.clusters.node import Node
from demo.workshop.minilabs import controlplane, secrets, services
from demo.workshop.minilabs.base import Bench, Outcome, Step, Track, walk

TRACKS: dict[str, Track] = {t.name: t for t in (services.TRACK, secrets.TRACK, controlplane.TRACK)}

__all__ = ["TRACKS", "Bench", "Node", "Outcome", "Step", "Track", "walk"]
