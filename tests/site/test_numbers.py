"""One number, one source: every measurement a page quotes is read from the lab's results.

A page names a number (`#!lab RESULT:ENTRY:FIELD`); the build prints it with its unit, linked
to its result. A reference that names nothing stops the build with its file and line, and no
page's prose carries a measurement typed by hand.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support.helpers import build_error, build_site
from support.paths import ROOT

from generator.site import numbers
from generator.site.numbers import LabReferenceError, parse, resolve

RESULTS = ROOT / "docs" / "lab" / "results"
PAGES = sorted((ROOT / "docs").rglob("*.md"))

# What a hand-typed measurement looks like: digits next to a unit of time, size, share or
# cores ("4.7 s", "62 KB", "2-core", "1.04x", "105%").
MEASURED = re.compile(
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?:\s|-|\u00a0)?"
    r"(ms|s|sec|seconds?|minutes?|min|hours?|MiB|GiB|MB|GB|KB|kB|B|bytes|cores?|%|x)(?![\w])"
)
TIME_UNITS = {"s", "sec", "second", "seconds"}  # the settings are in seconds


def _settings() -> set[float]:
    """Seconds the lab is told to use (poll intervals, waits, windows): settings, not
    measurements, so prose may name them ("polling every 5 s")."""
    found: set[float] = set()

    def walk(key: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(k, v)
        elif isinstance(value, list):
            for v in value:
                walk(key, v)
        elif isinstance(value, int | float) and ("interval" in key or "seconds" in key):
            found.add(float(value))

    for path in RESULTS.glob("*.json"):
        if path.stem != "schema":
            walk("", json.loads(path.read_text())["parameters"])
    return found


def prose(markdown: str) -> list[tuple[int, str]]:
    """(line, text) of a page's prose: no front matter, fenced code, code spans, tables or
    HTML, where figures are the lab's own output or not measurements at all."""
    lines = markdown.splitlines()
    keep = numbers.prose_lines(markdown)
    if lines and lines[0] == "---":
        end = lines.index("---", 1)
        keep[: end + 1] = [False] * (end + 1)
    found = []
    for number, (line, kept) in enumerate(zip(lines, keep, strict=True), start=1):
        stripped = line.strip()
        if not kept or stripped.startswith(("|", "<")):
            continue
        found.append((number, re.sub(r"`[^`]*`", "", line)))
    return found


def hand_typed(markdown: str, settings: set[float]) -> list[tuple[int, str]]:
    problems = []
    for line, text in prose(markdown):
        for match in MEASURED.finditer(text):
            value = float(match.group(1).replace(",", ""))
            if match.group(2) in TIME_UNITS and value in settings:
                continue
            problems.append((line, match.group(0)))
    return problems


def test_no_page_types_a_measurement_by_hand():
    settings = _settings()
    found = [
        f"{page.relative_to(ROOT)}:{line}: {text!r}"
        for page in PAGES
        if "results" not in page.parts
        for line, text in hand_typed(page.read_text(), settings)
    ]
    assert not found, "write these as `#!lab RESULT:ENTRY:FIELD`:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "the pipeline took 6.7 s on kind",
        "a 2-core machine",
        "it grew to 62 KB a poll",
        "1.04x as long",
        "the server was 105% busy",
        "in 1,618.9 seconds",
    ],
)
def test_the_check_finds_a_hand_typed_number(text):
    assert hand_typed(f"Some prose.\n\n{text}, as measured.\n", set()) == [
        (3, MEASURED.search(text).group(0))
    ]


def test_the_check_leaves_references_code_settings_and_tables_alone():
    page = "\n".join(
        [
            "---",
            "title: 5 s",
            "---",
            "Pull took `#!lab lead-time:push-without-the-build:median`, polling every 5 s.",
            "| 4.7 s | a table |",
            "```sh",
            "sleep 3s",
            "```",
            "Kubernetes 1.25 removed it in 2022; part 4 of 5.",
        ]
    )
    assert hand_typed(page, {5.0}) == []


def test_a_reference_prints_the_value_with_its_unit_and_where_it_came_from():
    lead = json.loads((RESULTS / "lead-time-kind.json").read_text())
    row = next(r for r in lead["summary"] if r["series"] == "push, with the image build")
    quote = resolve(parse("lead-time-kind:push-with-the-image-build:median"), RESULTS)
    assert quote.text == numbers.show(row["median"], "s")
    assert quote.target == "lab/results/lead-time-kind.json"
    assert f"median of {row['n']} runs" in quote.about
    html = numbers.link_html(quote, "series/part-4-push-or-pull/")
    assert 'href="../../lab/results/lead-time-kind.json"' in html


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("polling-load:kind=flux,refs=1001:bytes_per_request kB", r"^\d+(\.\d+)?\u00a0kB$"),
        ("polling-load:kind=ours,pollers=1000,interval=5:cpu_percent cores", r"^\d\.\d+ cores$"),
        ("lead-time:metadata:cores", r"^\d+$"),
        ("lead-time:metadata:versions.flux", r"^v\d+\.\d+\.\d+$"),
        ("scaling:crossover-kind-every-60-s:clusters", r"^\d+$"),
        ("lead-time:push-without-the-build:median ms", r"^[\d,]+\u00a0ms$"),
    ],
)
def test_references_reach_samples_metadata_and_the_model(reference, expected):
    assert re.match(expected, resolve(parse(reference), RESULTS).text)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("lead-time:push-with-build:median", "has no summary row 'push-with-build'; it has"),
        ("nothing:a:b", "there is no result 'nothing'"),
        ("lead-time:push-without-the-build:average", "has no field 'average'"),
        ("polling-load:kind=flux:bytes_per_request", "samples have kind=flux (a reference"),
        ("lead-time:push-without-the-build:median furlongs", "can be shown in s, min, ms"),
        ("lead-time push", "is not a reference"),
        ("lead-time:metadata:versions.flux s", "is text; give it no unit"),
    ],
)
def test_a_reference_that_names_nothing_says_what_there_is(reference, expected):
    with pytest.raises(LabReferenceError, match=re.escape(expected)):
        resolve(parse(reference), RESULTS)


def test_a_missing_key_fails_the_build_with_file_and_line(project_copy, tmp_path, caplog):
    post = project_copy / "docs" / "series" / "part-5-service-models.md"
    lines = post.read_text().splitlines()
    lines.insert(20, "It took `#!lab lead-time:push-in-no-time:median` to ship.")
    post.write_text("\n".join(lines) + "\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "keep.html").write_text("the last good build")
    message = build_error(project_copy, site, tmp_path / "cache", caplog)
    assert "docs/series/part-5-service-models.md:21: lead-time.json has no summary row" in message
    assert (site / "keep.html").is_file(), "a failed build emptied the site"


def test_numbers_in_the_built_site_are_the_results(tmp_path):
    site = tmp_path / "site"
    build_site(ROOT, site, tmp_path / "cache")
    quoted = 0
    for page in PAGES:
        text = page.read_text()
        refs = numbers.references(text)
        if not refs:
            continue
        rel = page.relative_to(ROOT / "docs").with_suffix("")
        built = site / (rel.parent if rel.name == "index" else rel) / "index.html"
        out = built.read_text()
        for _, reference in refs:
            quote = resolve(parse(reference), RESULTS)
            assert f">{quote.text}</a>" in out.replace("&nbsp;", "\u00a0"), (page, reference)
            quoted += 1
        assert "#!lab" not in out, f"{page.name}: a reference was printed as code"
    assert quoted >= 20


def test_the_speaker_notes_quote_the_numbers_too(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(RESULTS, folder)
    text = "A push took `#!lab lead-time:push-without-the-build:median` here.\n"
    quote = resolve(parse("lead-time:push-without-the-build:median"), folder).text
    assert numbers.as_text(text, folder) == f"A push took {quote} here."


def test_a_result_folder_without_the_file_names_the_command(tmp_path):
    with pytest.raises(LabReferenceError, match="make experiments"):
        resolve(parse("lead-time:push-without-the-build:median"), Path(tmp_path))
