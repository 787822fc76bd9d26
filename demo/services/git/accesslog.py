"""The git server's access log: one JSON line a request, and what a set of them cost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Access:
    """One request, as the access log records it."""

    time: float
    method: str
    path: str
    service: str
    status: int
    user: str
    bytes_in: int
    bytes_out: int
    seconds: float
    protocol: str


@dataclass(frozen=True)
class Load:
    """What a set of requests cost the git server: the polling-load numbers."""

    requests: int
    bytes_in: int
    bytes_out: int
    seconds: float


def summarise(accesses: list[Access], service: str | None = None) -> Load:
    chosen = [a for a in accesses if service is None or a.service == service]
    return Load(
        requests=len(chosen),
        bytes_in=sum(a.bytes_in for a in chosen),
        bytes_out=sum(a.bytes_out for a in chosen),
        seconds=round(sum(a.seconds for a in chosen), 6),
    )


def read_log(path: Path) -> list[Access]:
    if not path.is_file():
        return []
    return [Access(**json.loads(line)) for line in path.read_text().splitlines() if line]
