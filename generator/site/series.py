"""Series navigation: which part a post is, and its neighbours, from the posts' front matter.

Material's blog plugin has no notion of a series (it chains the whole blog), so this is ours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mkdocs.utils.meta import YAML_RE

from ..errors import Location, MemeError, excerpt
from ..yamlfile import parse_mapping


@dataclass(frozen=True)
class Entry:
    """One post of a series, as its front matter declares it."""

    source: str  # path of the Markdown file under docs/
    series: str
    part: int
    title: str
    date: dt.date | None = None
    description: str = ""
    reviewed: dt.date | None = None  # when its facts were last checked against today's


@dataclass(frozen=True)
class Position:
    """Where one post stands in its series."""

    entry: Entry
    total: int
    previous: Entry | None
    next: Entry | None
    entries: tuple[Entry, ...]


# Front-matter fields that themes print as text (navigation, titles): no markup belongs there,
# and some themes print them unescaped, so markup in them is refused outright.
TEXT_FIELDS = ("title", "series")


def read_front_matter(source: str, text: str) -> tuple[dict, list[MemeError]]:
    """The page's front matter, read as MkDocs finds it, with the limits of a meme block.

    MkDocs drops front matter it cannot read without a word (the page then leaves the series
    and loses its title), and its loader expands aliases: here both are errors."""
    match = YAML_RE.match(text)
    if match is None:
        return {}, []
    try:
        located = parse_mapping(match.group(1), source, first_line=2, what="front matter")
    except MemeError as error:
        return {}, [error]
    return located.data, []


def check_front_matter(source: str, meta: dict) -> list[MemeError]:
    """Markup where plain text is expected: one error per field, gathered, not raised."""
    errors = []
    for name in TEXT_FIELDS:
        value = meta.get(name)
        if isinstance(value, str) and any(c in value for c in "<>"):
            excerpt = value if len(value) <= 60 else value[:57] + "..."
            errors.append(
                MemeError(
                    Location(source, None, name),
                    f"{name} {excerpt!r} contains '<' or '>'",
                    "write it as plain text, without HTML",
                )
            )
    return errors


def entry_from_meta(source: str, meta: dict) -> Entry | None:
    """The series entry a page's front matter declares, or None if it is not in a series."""
    if "series" not in meta:
        return None
    part = meta.get("part")
    if not isinstance(part, int) or isinstance(part, bool) or part < 1:
        raise MemeError(
            Location(source, None, "part"),
            f"a post in series {excerpt(meta['series'])} needs 'part', a whole number from 1",
            "add e.g. 'part: 2' to the front matter",
        )
    for key in ("date", "reviewed"):
        value = meta.get(key)
        if value is not None and not isinstance(value, dt.date):
            raise MemeError(
                Location(source, None, key), f"{key} {excerpt(value)} is not a date", "YYYY-MM-DD"
            )
    date, reviewed = meta.get("date"), meta.get("reviewed")
    if date and reviewed and reviewed < date:
        raise MemeError(
            Location(source, None, "reviewed"),
            f"reviewed {reviewed} is before the post's date {date}",
            "give the day its facts were last checked",
        )
    return Entry(
        source=source,
        series=str(meta["series"]),
        part=part,
        title=str(meta.get("title") or source),
        date=date,
        description=str(meta.get("description") or ""),
        reviewed=reviewed,
    )


def _by_series(entries: list[Entry]) -> dict[str, list[Entry]]:
    by_series: dict[str, list[Entry]] = {}
    for entry in entries:
        by_series.setdefault(entry.series, []).append(entry)
    for members in by_series.values():
        members.sort(key=lambda e: (e.part, e.source))
    return by_series


def check_series(entries: list[Entry], folder: str = "") -> list[MemeError]:
    """Every series numbered 1..N, each part claimed once; an error per mistake, naming the
    posts (`folder`: where the sources are, as an author sees them)."""
    problems = []
    for name, members in _by_series(entries).items():
        claims: dict[int, list[str]] = {}
        for entry in members:
            claims.setdefault(entry.part, []).append(f"{folder}{entry.source}")
        for part, sources in claims.items():
            if len(sources) > 1:
                problems.append(MemeError(
                    Location(sources[1], None, "part"),
                    f"{' and '.join(sources)} both claim part {part} of series {excerpt(name)}",
                    "give each post of the series its own part",
                ))  # fmt: skip
        parts = sorted(claims)
        if parts != list(range(1, len(parts) + 1)):
            problems.append(MemeError(
                Location(f"{folder}{members[0].source}", None, "part"),
                f"series {excerpt(name)} has parts {parts}",
                f"number its posts 1 to {len(parts)}, with no gap",
            ))  # fmt: skip
    return problems


def build_positions(entries: list[Entry]) -> dict[str, Position]:
    """Position of every post, keyed by source; parts of a series must be 1..N with no gap
    (`check_series`, which the site's planning runs first, says what is wrong)."""
    problems = check_series(entries)
    if problems:
        raise problems[0]
    positions: dict[str, Position] = {}
    for members in _by_series(entries).values():
        ordered = tuple(members)
        for index, entry in enumerate(ordered):
            positions[entry.source] = Position(
                entry=entry,
                total=len(ordered),
                previous=ordered[index - 1] if index > 0 else None,
                next=ordered[index + 1] if index + 1 < len(ordered) else None,
                entries=ordered,
            )
    return positions
