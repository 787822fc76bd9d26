"""The `lab-result` fence of pymdownx.superfences: a chart of one of the lab's results, inline,
with its numbers in a table beside it and what it was measured on under it.

    ```lab-result
    experiment: lead-time
    chart: lead-time
    ```

The result is read from docs/lab/results/<experiment>.json and checked against schema.json
there (the lab writes both; the site never imports the lab). Charts are drawn only when a
result changed: each is cached under .cache/lab-charts by the digest of its result, its chart
name and the drawing code's version, so a build with nothing new imports no matplotlib. Works
under both builders, since it needs no plugin.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pymdownx.superfences import SuperFencesException

from ..files import write_atomically
from . import charts
from .fences import loud

FENCE_FORMAT = "generator.site.results.format_result"
RESULTS_ENV = "LAB_RESULTS"  # where the results are, when not docs/lab/results of the cwd
CACHE_ENV = "LAB_CHARTS_CACHE"
MAX_FENCE = 2000  # characters: a fence names a result and a chart, nothing more


class ResultFenceError(SuperFencesException):
    """A `lab-result` fence that cannot be drawn: stops the build with what to do."""


# chart name -> (experiments it draws, drawing, table, alt text)
def _lead_time_table(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["delivery", "runs", "median", "fastest", "slowest"]
    rows = [
        [r["series"], str(r["n"]), f"{charts.number(r['median'])} s",
         f"{charts.number(r['min'])} s", f"{charts.number(r['max'])} s"]
        for r in result["summary"]
    ]  # fmt: skip
    return header, rows


def _lead_time_alt(result: dict) -> str:
    parts = [f"{r['series']} {charts.number(r['median'])} s" for r in result["summary"]]
    return "Bar chart of the median lead time, commit to running in every cluster: " + (
        "; ".join(parts) + "."
    )


SHORT = {"ours": "our agent (v2)", "flux": "Flux (v0)", "registry": "registry tags"}


def _polling_table(measure: str) -> Callable[[dict], tuple[list[str], list[list[str]]]]:
    """A narrow table (it must fit a phone without scrolling) of what the chart shows."""

    def table(result: dict) -> tuple[list[str], list[list[str]]]:
        samples = [s for s in result["samples"] if "grow" not in s["series"]]
        if measure == "cpu_percent":
            header = ["poller", "every", "clients", "answered / min", "CPU %", "p95"]
            rows = [
                [SHORT[s["kind"]], f"{s['interval']:g} s", f"{s['pollers']:,}",
                 charts.number(s["requests_per_minute"]) + (" (saturated)" if s["saturated"]
                                                            else ""),
                 charts.number(s["cpu_percent"]), f"{charts.number(s['latency_p95_ms'])} ms"]
                for s in samples
            ]  # fmt: skip
        else:
            header = ["poller", "every", "clients", "bytes / min"]
            rows = [
                [SHORT[s["kind"]], f"{s['interval']:g} s", f"{s['pollers']:,}",
                 charts.number(s["bytes_per_minute"])]
                for s in samples
            ]  # fmt: skip
        return header, rows

    return table


def _polling_alt(measure: str) -> Callable[[dict], str]:
    def alt(result: dict) -> str:
        samples = [s for s in result["samples"] if "grow" not in s["series"]]
        most = max(s["pollers"] for s in samples)
        top = [s for s in samples if s["pollers"] == most]
        parts = [f"{s['series']} every {s['interval']:g} s: {charts.number(s[measure])}"
                 for s in top]  # fmt: skip
        what = {"cpu_percent": "server CPU in % of one core",
                "bytes_per_minute": "bytes per minute"}[measure]  # fmt: skip
        return (
            f"Line chart of {what} against the number of polling clients, one line per kind of"
            f" poller and interval. At {most:,} clients: " + "; ".join(parts) + "."
        )

    return alt


def _refs_table(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["poller", "refs", "bytes of one idle poll"]
    rows = [
        [SHORT[s["kind"]], f"{s['refs']:,}",
         f"{s['bytes_per_request']:,}"]
        for s in result["samples"] if "grow" in s["series"]
    ]  # fmt: skip
    return header, rows


def _refs_alt(result: dict) -> str:
    parts = [
        f"{s['kind']} with {s['refs']:,} refs: {s['bytes_per_request']:,} bytes"
        for s in result["samples"]
        if "grow" in s["series"]
    ]
    return "Line chart of the bytes of one idle poll as the repository gains refs: " + (
        "; ".join(parts) + "."
    )


def _repairs_table(result: dict) -> tuple[list[str], list[list[str]]]:
    wait = result["parameters"]["wait_seconds"]
    header = ["model and case", "put right", "median", "fastest", "slowest"]
    rows = [
        [r["series"], f"{r['repaired']} of {r['n']}",
         *((f"{charts.number(r[k])} s" for k in ("median", "min", "max")) if r["repaired"]
           else (f"not within {wait:g} s", "", ""))]
        for r in result["summary"]
    ]  # fmt: skip
    return header, rows


def _repairs_alt(result: dict) -> str:
    parts = [
        f"{r['series']}: " + (f"put right after {charts.number(r['median'])} s" if r["repaired"]
                              else "not put right")
        for r in result["summary"]
    ]  # fmt: skip
    return "Bar chart of how long each model took to put a cluster right: " + "; ".join(parts)


def _deploy_table(result: dict) -> tuple[list[str], list[list[str]]]:
    header, rows = _lead_time_table(result)
    return ["target", *header[1:]], rows


def _deploy_alt(result: dict) -> str:
    parts = [f"{r['series']} {charts.number(r['median'])} s" for r in result["summary"]]
    answered = [s["answered"] for s in result["samples"] if s.get("kind") == "docker"]
    return (
        "Bar chart of the median time the push pipeline took per target: "
        + "; ".join(parts)
        + f". The Docker host served the new version after {sum(answered)} of"
        f" {len(answered)} runs."
    )


def _access_table(result: dict) -> tuple[list[str], list[list[str]]]:
    """Narrow enough for a phone: what each credential opened, and how much was refused."""
    holders, actions, cells = charts.access_cells(result)
    lives = result["parameters"].get("holders", {})
    header = ["stolen credential", "where it lives", "what the lab allowed", "refused"]
    rows = []
    for holder in holders:
        opened = [
            f"{a} ({cells[holder, a]})" if "clusters" in cells[holder, a] else a
            for a in actions
            if not cells[holder, a].startswith(("refused", "0 of"))
        ]
        tried = [s for s in result["samples"] if s["series"] == holder]
        refused = sum(not s["allowed"] for s in tried)
        rows.append([holder, lives.get(holder, ""), "; ".join(opened) or "nothing",
                     f"{refused} of {len(tried)} requests"])  # fmt: skip
    return header, rows


def _access_alt(result: dict) -> str:
    holders, actions, cells = charts.access_cells(result)
    parts = [f"{h}: " + ", ".join(f"{a} {cells[h, a]}" for a in actions) for h in holders]
    return "Grid of what each stolen credential could do against the lab. " + "; ".join(parts)


def _access_phone(result: dict) -> str:
    """The credentials grid on a phone: five columns of cells do not fit 390 px, so the same
    answers as a table of two columns, each credential with what it opened and what not."""
    holders, actions, cells = charts.access_cells(result)
    rows = []
    for holder in holders:
        said = [f"{a}: {cells[holder, a]}" for a in actions]
        rows.append([holder, "; ".join(said)])
    return table_html(["stolen credential", "what the lab answered"], rows)


@dataclass(frozen=True)
class Chart:
    """What a `chart:` name draws: from which experiment, how (wide or narrow), its table of
    numbers, its alt text, and, where no chart fits a phone, what a phone shows instead."""

    experiment: str
    draw: Callable[[dict, bool], str]
    table: Callable[[dict], tuple[list[str], list[list[str]]]]
    alt: Callable[[dict], str]
    phone: Callable[[dict], str] | None = None


CHARTS = {
    "flexibility": Chart("flexibility", charts.deploy_times, _deploy_table, _deploy_alt),
    "credentials": Chart(
        "credentials",
        lambda r, narrow: charts.access(r),
        _access_table,
        _access_alt,
        phone=_access_phone,
    ),
    "propagation-drift": Chart("propagation-drift", charts.repairs, _repairs_table, _repairs_alt),
    "lead-time": Chart("lead-time", charts.lead_time, _lead_time_table, _lead_time_alt),
    "polling-cpu": Chart(
        "polling-load",
        lambda r, narrow: charts.polling(r, "cpu_percent", narrow),
        _polling_table("cpu_percent"),
        _polling_alt("cpu_percent"),
    ),
    "polling-bytes": Chart(
        "polling-load",
        lambda r, narrow: charts.polling(r, "bytes_per_minute", narrow),
        _polling_table("bytes_per_minute"),
        _polling_alt("bytes_per_minute"),
    ),
    "polling-refs": Chart("polling-load", charts.refs, _refs_table, _refs_alt),
}
PARTS = ("chart", "numbers", "both")  # what a fence prints: the figure, its numbers folded


_configured: dict[str, Path] = {}


def configure(results: Path, cache: Path) -> None:
    """Where the results and the chart cache are: MkDocs' plugin says so from its config;
    without it (Zensical), the environment or the working folder decide."""
    _configured.update(results=results, cache=cache)


def results_dir() -> Path:
    if RESULTS_ENV in os.environ:
        return Path(os.environ[RESULTS_ENV])
    return _configured.get("results", Path("docs/lab/results"))


def cache_dir() -> Path:
    if CACHE_ENV in os.environ:
        return Path(os.environ[CACHE_ENV])
    return _configured.get("cache", Path(".cache/lab-charts"))


def fence_yaml(src: str, fence: str) -> object:
    """What a fence of the site's holds (short YAML), or ResultFenceError naming the fence."""
    if len(src) > MAX_FENCE:
        raise ResultFenceError(f"a {fence} fence is {len(src)} characters (at most {MAX_FENCE})")
    try:
        return yaml.safe_load(src) or {}
    except yaml.YAMLError as error:
        raise ResultFenceError(f"a {fence} fence is not YAML: {error}") from None


EXPERIMENT_NAME = re.compile(r"[a-z][a-z0-9-]*")  # schema.json's pattern for `experiment`


def parse_fence(src: str) -> tuple[str, str, str]:
    """The experiment, chart and part a fence names; ResultFenceError with the fix otherwise."""
    spec = fence_yaml(src, "lab-result")
    if not isinstance(spec, dict) or not isinstance(spec.get("experiment"), str):
        raise ResultFenceError(
            "a lab-result fence needs `experiment: NAME` (a file in docs/lab/results)"
        )
    if not EXPERIMENT_NAME.fullmatch(spec["experiment"]):
        raise ResultFenceError(
            f"{spec['experiment'][:60]!r} is not an experiment's name: names are lowercase"
            " letters, digits and '-', as the files in docs/lab/results are named"
        )
    chart = spec.get("chart", spec["experiment"])
    if chart not in CHARTS:
        raise ResultFenceError(
            f"unknown chart {str(chart)[:40]!r} in a lab-result fence: use one of {sorted(CHARTS)}"
        )
    drawn = CHARTS[chart].experiment  # lead-time also draws lead-time-kind: the same kind
    if spec["experiment"] != drawn and not str(spec["experiment"]).startswith(f"{drawn}-"):
        raise ResultFenceError(
            f"chart {chart!r} draws the {drawn} result, not {spec['experiment'][:40]!r}"
        )
    unknown = set(spec) - {"experiment", "chart", "part"}
    if unknown:
        raise ResultFenceError(
            f"a lab-result fence has unknown keys {sorted(map(str, unknown))[:5]}: it takes"
            " experiment, chart and part"
        )
    part = spec.get("part", "both")
    if part not in PARTS:
        raise ResultFenceError(
            f"part: {str(part)[:40]!r} in a lab-result fence: use chart (the figure), numbers"
            " (its table, folded) or both"
        )
    return spec["experiment"], chart, part


# Results already read and checked, by the SHA-256 of their bytes and their schema's: a page
# quotes dozens of numbers from one file, and checking it against the schema each time cost
# seconds a build. Within a build, a file is read again only when its size, time or inode
# changed (so `serve` sees an edit); across builds, the digest of a result that passed is kept
# in the chart cache, so a build whose results did not change neither validates nor imports
# jsonschema (it cost 0.3 s of a 1.7 s no-change build).
_CHECKED: dict[str, dict] = {}
_READ: dict[Path, tuple[tuple[int, int, int], bytes]] = {}


def not_a_number(constant: str) -> float:
    """json's hook for NaN and Infinity, which Python reads and JSON does not have."""
    raise ValueError(f"{constant} is not a measurement (JSON has no {constant})")


def load_result(folder: Path, experiment: str) -> tuple[dict, bytes]:
    """The result, checked against the schema beside it; its bytes (for the cache key). The
    document is shared between callers: read it, never change it."""
    if not isinstance(experiment, str) or not EXPERIMENT_NAME.fullmatch(experiment):
        raise ResultFenceError(
            f"{str(experiment)[:60]!r} is not an experiment's name: names are lowercase letters,"
            " digits and '-', as the files in docs/lab/results are named"
        )
    path = folder / f"{experiment}.json"
    data = read_inside(path, folder, "run `make experiments` (or SMALL=1) to measure it")
    schema_bytes = read_inside(folder / "schema.json", folder, "restore it from git")
    key = hashlib.sha256(schema_bytes + b"\0" + data).hexdigest()
    if key in _CHECKED:
        return _CHECKED[key], data
    try:
        document = json.loads(data, parse_constant=not_a_number)
        schema = json.loads(schema_bytes)
    except ValueError as error:
        raise ResultFenceError(f"{path} is not JSON ({error}): run its experiment again") from None
    proof = cache_dir() / "checked" / key
    if not proof.is_file():
        _validate(document, schema, path)
        write_atomically(proof, b"")  # this result, under this schema, passed
    _CHECKED[key] = document
    return document, data


def _validate(document: dict, schema: dict, path: Path) -> None:
    from jsonschema import Draft202012Validator  # only a build with new results pays for it

    problems = list(Draft202012Validator(schema).iter_errors(document))
    if problems:
        where = "/".join(str(p) for p in problems[0].path) or "(top)"
        raise ResultFenceError(
            f"{path} does not match schema.json at {where}: {problems[0].message[:200]}"
            f" ({len(problems)} problem(s)); run its experiment again"
        )


def read_inside(path: Path, folder: Path, remedy: str) -> bytes:
    """The bytes of `path`, a regular file of `folder` itself: never a link that leaves it,
    so a result (or anything read like one) is never read from elsewhere on the machine."""
    try:
        stat = path.lstat()
    except FileNotFoundError:
        raise ResultFenceError(f"{path} is missing: {remedy}") from None
    except OSError as error:
        raise ResultFenceError(f"{path} cannot be read ({error.strerror})") from None
    stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    known = _READ.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    if path.is_symlink() or not path.resolve().is_relative_to(folder.resolve()):
        raise ResultFenceError(
            f"{path} is a link, or leads out of {folder}: put the file itself there"
        )
    if not path.is_file():
        raise ResultFenceError(f"{path} is not a file: {remedy}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ResultFenceError(f"{path} cannot be read ({error.strerror})") from None
    _READ[path] = (stamp, data)
    return data


def chart_svg(document: dict, data: bytes, chart: str, narrow: bool = False) -> str:
    """The chart's SVG, drawn once per result, width and chart version, then read from the
    cache."""
    variant = "narrow" if narrow else "wide"
    salt = f"{charts.CHARTS_VERSION}\0{chart}\0{variant}\0".encode()
    key = hashlib.sha256(salt + data).hexdigest()
    cached = cache_dir() / f"{chart}-{variant}-{key[:20]}.svg"
    if cached.is_file():
        return cached.read_text()
    svg = CHARTS[chart].draw(document, narrow)
    write_atomically(cached, svg.encode())
    return svg


def table_html(header: list[str], rows: list[list[str]], code: bool = False) -> str:
    """An HTML table of text, every cell escaped; with `code`, `backquoted` words become
    <code> (after escaping, so a backquote can never make markup)."""

    def cell(text: str) -> str:
        escaped = html.escape(text)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped) if code else escaped

    head = "".join(f"<th>{html.escape(cell_text)}</th>" for cell_text in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(text)}</td>" for text in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def samples_link(experiment: str) -> str:
    """The link to a result's file, where every sample is (relative to the lab page)."""
    return f'<a href="results/{html.escape(experiment)}.json">every sample (JSON)</a>'


def caption_html(document: dict, experiment: str) -> str:
    """Under the chart: what it is, when and where it was measured, and the link to every
    sample. The versions measured go with the numbers, folded."""
    meta = document["metadata"]
    place = PLACES.get(meta["provider"], (meta["provider"],))[0]
    text = (
        f"{document['title']}. Measured {meta['date'][:10]} on {meta['cores']} cores,"
        f" {place}, {meta['size']} run"
    )
    return f'{html.escape(text)} (<a href="#lab-versions">versions</a>). {samples_link(experiment)}'


def flux_name(controllers: str) -> str:
    """Flux as readers know it: controllers v1.N ship in Flux v2.N. (The lab names it the same
    way in demo.core.versions; the site reads results, never the lab's code.)"""
    line = "v2." + controllers.split(".")[1]
    return f"Flux {line} (source-controller {controllers}, kustomize-controller {controllers})"


PLACES = {  # where a result was measured, in a reader's words, and the versions that matter
    "kind": ("kind clusters (real pods)", ("kind",)),
    "kwok": ("kwok clusters (real API servers, simulated nodes)", ("kwok", "etcd")),
    "none": ("this machine's loopback, no cluster", ()),
}


def versions_html(document: dict) -> str:
    """Where and with what a result was measured: the provider, its Kubernetes, Flux by the
    name readers know (on kwok, where the lab ran it), git; then a link to the versions box,
    since a result keeps the versions it ran after a pin moves."""
    meta = document["metadata"]
    found = meta["versions"]
    place, own = PLACES.get(meta["provider"], (meta["provider"], ()))
    parts = [] if meta["provider"] == "none" else [f"Kubernetes {found['kubernetes']}"]
    parts += [f"{name} {found[name]}" for name in own]
    if meta["provider"] == "kwok":
        parts.append(flux_name(found["flux"]))
    parts.append(f"git {found['git']}")
    text = f"Measured on {place}, {meta['machine']}, Python {meta['python']}: {', '.join(parts)}."
    return f'{html.escape(text)} <a href="#lab-versions">What the lab runs now</a>.'


def figure_html(document: dict, data: bytes, experiment: str, chart: str) -> str:
    """The chart twice, wide and narrow (site.css shows the one that fits), each with its
    own ids; a phone gets a table instead where no chart of its width can be read."""
    spec = CHARTS[chart]
    anchor = f"result-{experiment}" if chart == experiment else f"result-{experiment}-{chart}"
    label = html.escape(spec.alt(document))
    wide = charts.unique_ids(chart_svg(document, data, chart), f"{anchor}-wide")
    if spec.phone is not None:
        narrow = spec.phone(document)
    else:
        svg = charts.unique_ids(chart_svg(document, data, chart, narrow=True), f"{anchor}-narrow")
        narrow = charts.with_label(svg, label)
    return (
        f'<figure class="lab-result" id="{html.escape(anchor)}">'
        f'<div class="lab-chart lab-chart--wide">{charts.with_label(wide, label)}</div>'
        f'<div class="lab-chart lab-chart--narrow">{narrow}</div>'
        f"<figcaption>{caption_html(document, experiment)}</figcaption></figure>"
    )


def numbers_html(document: dict, experiment: str, chart: str) -> str:
    """The chart's numbers, folded: a reader opens them, the page stays short."""
    header, rows = CHARTS[chart].table(document)
    return (
        '<details class="lab-numbers"><summary>The numbers behind this chart'
        f" ({len(rows)} rows)</summary>{table_html(header, rows)}"
        f"<p>{versions_html(document)} {samples_link(experiment)}</p></details>"
    )


@loud("lab-result")
def format_result(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' custom-fence formatter: the chart and its caption, then its numbers."""
    experiment, chart, part = parse_fence(src)
    document, data = load_result(results_dir(), experiment)
    shown = []
    if part in ("chart", "both"):
        shown.append(figure_html(document, data, experiment, chart))
    if part in ("numbers", "both"):
        shown.append(numbers_html(document, experiment, chart))
    return "".join(shown)
