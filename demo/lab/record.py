"""The lab as a whole: which provider and clusters are up, and its services, for one lab state.

`up` records what it brought up in `lab.json`, so that `status` and `down` know the provider
and clusters without the reader repeating them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from demo.clusters import Cluster, Provider, provider
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.paths import write_atomic
from demo.services.registry import LocalRegistry, Registry


@dataclass
class LabRecord:
    """What `up` brought up, kept in the lab state."""

    provider: str
    clusters: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)  # the provider's, e.g. a kubeconfig

    @classmethod
    def load(cls, root: Path) -> LabRecord | None:
        path = root / "lab.json"
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise LabError(
                f"{path} is not a lab record", "remove the lab with `python -m demo down`"
            ) from error

    @classmethod
    def required(cls, root: Path) -> LabRecord:
        """The record of the lab that is up in `root`; LabError when none is."""
        record = cls.load(root)
        if record is None:
            raise LabError(
                f"no lab is up in {root}", "bring it up first: `make demo` or `python -m demo up`"
            )
        return record

    def save(self, root: Path) -> None:
        write_atomic(root / "lab.json", json.dumps(asdict(self), indent=2), mode=0o644)

    def owner(self, lab: LabContext) -> Provider:
        return provider(self.provider, lab, **self.options)

    def clusters_of(self, lab: LabContext) -> list[Cluster]:
        known = {c.name: c for c in self.owner(lab).list()}
        return [known[n] for n in self.clusters if n in known]


def start_registry(owner: Provider, clusters: list[Cluster], root: Path) -> Registry:
    """The registry where the provider's clusters can pull from it: the provider's own beside
    them (kind's network recipe), or else the lab's on the host's loopback."""
    address = owner.pull_registry(clusters)
    if address is not None:
        return Registry(address, record=root / "registry" / "pushed.jsonl")
    return LocalRegistry(root / "registry").start()


def running_registry(owner: Provider, root: Path) -> Registry | None:
    if owner.network is not None:  # its registry runs beside its clusters, or not at all
        address = owner.running_pull_registry()
        if address is None:
            return None
        return Registry(address, record=root / "registry" / "pushed.jsonl")
    return LocalRegistry(root / "registry").running()
