"""Numbers the site quotes, read from the lab's results when the site is built.

A page never types a measurement; it names one, through pymdownx.inlinehilite:

    the pipeline took `#!lab lead-time-kind:push-with-the-image-build:median` on kind

prints "6.74 s", linked to the result file it came from, with a tooltip saying which entry.
A reference is `RESULT:ENTRY:FIELD`, then optionally a unit to show it in:

- RESULT: a file of docs/lab/results (without .json), `scaling` (the fleet model),
  `verdicts` (what the lab found for each claim, `#!lab verdicts:lead-time:verdict`) or
  `versions` (what readers and this lab run, `#!lab versions:readers:kubernetes`);
- ENTRY: a summary row, by its series as a slug (`push, with the image build` is
  `push-with-the-image-build`); or a sample chosen by its fields (`kind=flux,refs=1001`),
  which must match exactly one; or `parameters` or `metadata`;
- FIELD: a key of that entry (`median`, `n`, `cpu_percent`, `versions.flux`, ...);
- unit: `cores` (from %), `kB`, `MB`, `GB`, `MiB`, `GiB` (from bytes), `min`, `ms` (from
  seconds), `s` (from ms), `count` (a plain number).

Every reference on every page is checked before the build writes anything (`check_page`),
naming the file and line of a reference that names nothing; the formatter itself raises
InlineHiliteException, which inlinehilite lets through (any other error would print the code
span as it stands, silently). Works under both builders: it needs no plugin.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pymdownx.inlinehilite import InlineHiliteException

from . import charts
from .fence import page_location, relative_url
from .results import ResultFenceError, load_result, results_dir

FORMAT = "generator.site.numbers.format_lab"
REFERENCE = re.compile(r"(?<!`)`#!lab\s+([^`]*)`(?!`)")
FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})")
MAX_REFERENCE = 200  # characters: a result, an entry, a field and a unit


class LabReferenceError(InlineHiliteException):
    """A reference that names no number: what is wrong and what to write instead."""


@dataclass(frozen=True)
class Reference:
    result: str
    entry: str
    field: str
    unit: str | None = None


@dataclass(frozen=True)
class Quote:
    """A number as a page prints it, and where it came from."""

    text: str  # "6.74 s"
    target: str  # from the site's root: "lab/results/lead-time-kind.json"
    about: str  # "lead-time-kind.json: push, with the image build, median of 10 runs"


def slug(name: str) -> str:
    """A series name as a reference names it: `pull (the lab's agent), polling every 5 s` is
    `pull-the-labs-agent-polling-every-5-s`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def parse(text: str) -> Reference:
    if len(text) > MAX_REFERENCE:
        raise LabReferenceError(f"a lab reference is {len(text)} characters (at most 200)")
    words = text.split()
    parts = words[0].split(":") if words else []
    if len(words) not in (1, 2) or len(parts) != 3 or not all(parts):
        raise LabReferenceError(
            f"`#!lab {text[:80]}` is not a reference: write `#!lab RESULT:ENTRY:FIELD`"
            " with an optional unit, e.g. `#!lab lead-time:push-without-the-build:median`"
        )
    return Reference(*parts, words[1] if len(words) == 2 else None)


# --- units: what a field is measured in, and what it may be shown in -----------------------


def _field_unit(field: str, row_unit: str | None) -> str:
    if row_unit and field in ("median", "min", "max", "mean", "p95"):
        return row_unit
    if field == "seconds" or field.endswith("_seconds"):
        return "s"
    if field.endswith("_ms"):
        return "ms"
    if field.startswith("bytes") or field.endswith("_bytes"):
        return "B"
    if field.endswith("_percent"):
        return "%"
    if field.endswith("_mib"):
        return "MiB"
    if field.endswith("_cores"):
        return "cores"
    return "count"


CONVERSIONS: dict[tuple[str, str], float] = {
    ("%", "cores"): 1 / 100,
    ("B", "kB"): 1e-3,
    ("B", "MB"): 1e-6,
    ("B", "GB"): 1e-9,
    ("B", "MiB"): 1 / 2**20,
    ("B", "GiB"): 1 / 2**30,
    ("MiB", "GiB"): 1 / 2**10,
    ("MiB", "GB"): 2**20 / 1e9,
    ("s", "min"): 1 / 60,
    ("s", "ms"): 1000,
    ("ms", "s"): 1 / 1000,
}


def show(value: float, unit: str) -> str:
    """A measured value for people: three significant digits, with its unit."""
    integral = isinstance(value, int) or (unit == "count" and float(value).is_integer())
    figure = f"{round(value):,}" if integral else charts.number(value)
    if unit == "count":
        return figure
    if unit == "%":
        return f"{figure}%"
    if unit == "cores":
        return f"{figure} core" if figure == "1" else f"{figure} cores"
    return f"{figure}\u00a0{unit}"  # no line break between a number and its unit


# --- resolving -------------------------------------------------------------------------------


def _nearest(wanted: str, known: list[str]) -> str:
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.4)
    shown = close or known[:6]
    more = "" if close or len(known) <= 6 else f" (and {len(known) - 6} more)"
    return ", ".join(shown) + more


def _dig(document: dict, path: str, what: str) -> object:
    value: object = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            known = sorted(value) if isinstance(value, dict) else []
            raise LabReferenceError(f"{what} has no field {path!r}; it has {_nearest(key, known)}")
        value = value[key]
    return value


def _sample(document: dict, selector: str, result: str) -> dict:
    wanted = {}
    for pair in selector.split(","):
        key, _, value = pair.partition("=")
        if not key or not value:
            raise LabReferenceError(
                f"{result}: the entry {selector!r} is neither a summary row nor `field=value,...`"
            )
        wanted[key] = value
    found = [s for s in document["samples"] if all(str(s.get(k)) == v for k, v in wanted.items())]
    if len(found) != 1:
        fields = sorted({k for s in document["samples"] for k in s})
        raise LabReferenceError(
            f"{result}: {len(found)} samples have {selector} (a reference needs exactly one);"
            f" choose by more of their fields: {', '.join(fields)}"
        )
    return found[0]


def _document(result: str, folder: Path) -> dict:
    if result in VIRTUAL:
        try:
            return VIRTUAL[result](folder)
        except ResultFenceError as error:
            raise LabReferenceError(str(error)) from None
        except (KeyError, TypeError, ValueError) as error:  # a result without what it needs
            raise LabReferenceError(
                f"{result} cannot be worked out from the results ({type(error).__name__}:"
                f" {error}); run the experiments it reads again"
            ) from None
    known = sorted(p.stem for p in folder.glob("*.json") if p.stem != "schema")
    if result not in known:
        shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
        raise LabReferenceError(
            f"there is no result {result!r} in {shown}/; there are"
            f" {', '.join([*known, *VIRTUAL])} (`make experiments` measures them)"
        )
    try:
        return load_result(folder, result)[0]
    except ResultFenceError as error:
        raise LabReferenceError(str(error)) from None


def resolve(reference: Reference, folder: Path) -> Quote:
    """The number a reference names, or LabReferenceError saying what it names instead."""
    document = _document(reference.result, folder)
    name = document.get("_name", f"{reference.result}.json")
    if reference.entry in ("parameters", "metadata"):
        entry, row_unit, what = document[reference.entry], None, f"{name} {reference.entry}"
    else:
        rows = {slug(r["series"]): r for r in document.get("summary", [])}
        if reference.entry in rows:
            entry = rows[reference.entry]
            row_unit, what = entry.get("unit"), f"{name}: {entry['series']}"
        elif "=" in reference.entry:
            entry = _sample(document, reference.entry, name)
            row_unit, what = (
                None,
                f"{name}: {entry.get('series', 'the sample')} ({reference.entry})",
            )
        else:
            raise LabReferenceError(
                f"{name} has no summary row {reference.entry!r}; it has"
                f" {_nearest(reference.entry, sorted(rows))}, or choose a sample by its fields"
                " (`kind=flux,pollers=1000`)"
            )
    value = _dig(entry, reference.field, what)
    target = document.get("_target", f"lab/results/{name}")
    if isinstance(entry, dict) and "_target" in entry:  # a verdict links to its own section
        target = entry["_target"]
    about = f"{what}, {reference.field}"
    if isinstance(entry, dict) and reference.field in ("median", "min", "max") and "n" in entry:
        about += f" of {entry['n']} runs"
    if isinstance(value, str):
        if reference.unit:
            raise LabReferenceError(f"{what} {reference.field} is text; give it no unit")
        return Quote(value, target, about)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LabReferenceError(f"{what} {reference.field} is not a number or text")
    unit = _field_unit(reference.field, row_unit)
    if reference.unit and reference.unit != unit:
        factor = CONVERSIONS.get((unit, reference.unit))
        if factor is None and reference.unit != "count":
            shown = sorted(to for (source, to) in CONVERSIONS if source == unit)
            choices = dict.fromkeys([unit, *shown, "count"])
            raise LabReferenceError(
                f"{what} {reference.field} is in {unit}; it can be shown in"
                f" {', '.join(choices)}, not {reference.unit!r}"
            )
        value, unit = value * (factor or 1), reference.unit
    return Quote(show(value, unit), target, about)


# --- the fleet model, as a result of its own ---------------------------------------------------


def _scaling(folder: Path) -> dict:
    from . import scaling  # the model reads the results itself

    return scaling.as_result(folder)


def _verdicts(folder: Path) -> dict:
    from . import verdicts  # the verdicts read the results themselves

    return verdicts.as_result(folder)


def _versions(folder: Path) -> dict:
    from . import versions

    return versions.as_result(folder)


VIRTUAL: dict[str, Callable[[Path], dict]] = {
    "scaling": _scaling,
    "verdicts": _verdicts,
    "versions": _versions,
}


# --- pages -------------------------------------------------------------------------------------


def prose_lines(markdown: str) -> list[bool]:
    """For each line, whether it is prose (outside fenced code blocks, at any indent)."""
    prose, fence = [], None
    for line in markdown.splitlines():
        opened = FENCE_LINE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * len(opened.group(1))
            prose.append(False)
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            prose.append(False)
        else:
            prose.append(True)
    return prose


def references(markdown: str) -> list[tuple[int, str]]:
    """(line, reference) of every `#!lab` code span outside fenced code blocks."""
    lines = markdown.splitlines()
    return [
        (number, match.group(1))
        for number, (line, prose) in enumerate(zip(lines, prose_lines(markdown), strict=True), 1)
        if prose
        for match in REFERENCE.finditer(line)
    ]


def as_text(markdown: str, folder: Path | None = None) -> str:
    """The page with each reference replaced by its number, as text (for speaker notes);
    the page's lines stay where they were."""
    lines = markdown.splitlines()
    return "\n".join(
        REFERENCE.sub(lambda m: quote_text(m.group(1), folder), line) if prose else line
        for line, prose in zip(lines, prose_lines(markdown), strict=True)
    )


def check_page(markdown: str, folder: Path) -> list[tuple[int, str]]:
    """(line, problem) for every reference of the page that names no number."""
    problems = []
    for line, text in references(markdown):
        try:
            resolve(parse(text), folder)
        except LabReferenceError as error:
            problems.append((line, str(error)))
    return problems


def link_html(quote: Quote, page_url: str) -> str:
    path, _, fragment = quote.target.partition("#")
    href = relative_url(path, page_url) + ("/" if path.endswith("/") else "")
    href += f"#{fragment}" if fragment else ""
    words = " lab-number--words" if len(quote.text.split()) > 3 else ""  # it may wrap
    return (
        f'<a class="lab-number{words}" href="{html.escape(href)}"'
        f' title="{html.escape(quote.about)}">{html.escape(quote.text)}</a>'
    )


def format_lab(src: str, language: str, class_name: str, md) -> str:
    """inlinehilite's formatter of `#!lab`: the number, linked to where it came from."""
    quote = resolve(parse(src), results_dir())
    where = page_location(md)
    return link_html(quote, where[1] if where else "")


def quote_text(src: str, folder: Path | None = None) -> str:
    """The number alone, as text (for the slides' speaker notes)."""
    return resolve(parse(src), folder or results_dir()).text
