"""One experiment's result: its samples, a summary per series, and everything needed to judge
and repeat it (date, provider, size, cores, versions), checked against the published schema
and written atomically to docs/lab/results/<name>.json, where the site reads it."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jsonschema import Draft202012Validator

from demo.core import versions
from demo.core.errors import LabError
from demo.core.git import run_git
from demo.core.paths import REPO, write_atomic
from demo.core.run import CommandError

ROOT = REPO
RESULTS = ROOT / "docs" / "lab" / "results"
SCHEMA = RESULTS / "schema.json"


class ResultError(LabError):
    """A result does not match the schema: nothing is written."""


@dataclass
class Result:
    experiment: str
    title: str
    claim: str  # the claim of part 4 this measures, in a reader's words
    provider: str
    size: str
    parameters: dict
    samples: list[dict] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    started: float = 0.0

    def document(self, finished: float) -> dict:
        return {
            "experiment": self.experiment,
            "title": self.title,
            "claim": self.claim,
            "metadata": metadata(self.provider, self.size, finished - self.started),
            "parameters": self.parameters,
            "samples": self.samples,
            "summary": self.summary,
        }


def git_version() -> str:
    try:
        return run_git("--version", timeout=30).split()[-1]
    except CommandError:
        return "unknown"


def metadata(provider: str, size: str, seconds: float) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "provider": provider,
        "size": size,
        "cores": os.cpu_count() or 1,
        "machine": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": {
            "kubernetes": versions.KUBERNETES,
            "etcd": versions.ETCD,
            "kwok": versions.KWOK,
            "kind": versions.KIND,
            "flux": versions.FLUX,
            "git": git_version(),
        },
        "seconds": round(seconds, 1),
    }


def summarise(samples: list[dict], key: str, unit: str, by: str = "series") -> list[dict]:
    """Median, min and max of `key` per series, in the order series first appear."""
    groups: dict[str, list[float]] = {}
    for sample in samples:
        groups.setdefault(sample[by], []).append(sample[key])
    return [
        {
            "series": name,
            "unit": unit,
            "n": len(values),
            "median": round(statistics.median(values), 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
        }
        for name, values in groups.items()
    ]


def check(document: dict, schema_path: Path = SCHEMA) -> None:
    """Every way `document` breaks the schema, in one error (where, what)."""
    schema = json.loads(schema_path.read_text())
    problems = sorted(
        Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path)
    )
    lines = [f"{'/'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in problems]
    # JSON has no NaN or Infinity (Python writes them, readers choke): not a measurement.
    lines += [f"{where}: {value} is not a number" for where, value in _not_finite(document)]
    if lines:
        raise ResultError(
            f"the {document.get('experiment', '?')} result does not match {schema_path.name}:\n"
            + "\n".join(lines[:20]),
            "this is a bug in the experiment: nothing was written",
        )


def _not_finite(value, where: str = "(top)") -> list[tuple[str, float]]:
    """(path, value) of every NaN or infinite float in a JSON-like document."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(where, value)]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    prefix = "" if where == "(top)" else f"{where}/"
    return [found for key, item in items for found in _not_finite(item, f"{prefix}{key}")]


def write(result: Result, finished: float, folder: Path = RESULTS) -> Path:
    """Check the result, then write it whole (or not at all) as <folder>/<experiment>.json."""
    document = result.document(finished)
    check(document)
    path = folder / f"{result.experiment}.json"
    write_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n", mode=0o644)
    return path
