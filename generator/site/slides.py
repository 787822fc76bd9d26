"""Slides from the posts: one deck per part, one slide per meme, for facilitators.

A deck is a title slide, then each meme large with its caption, and speaker notes taken from
the text around the meme in the post (the section it sits in, as plain text). Pure functions
from a post's text and its memes' placements to HTML; the MkDocs adapter and the Zensical
build only write the result to `slides/<post>/index.html`. The page is one self-contained
file with the site's own script and style (no CDN): keyboard navigation, speaker notes on
`n`, and one 1280 x 720 page per slide when printed (so Chromium prints a deck to PDF).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..pipeline import PlannedMeme
from . import numbers
from .figure import Figure, template_environment
from .series import Entry

SLIDES_DIR = "slides"
NOTES_LIMIT = 1200  # characters: what a facilitator glances at, not the whole post
HEADING = re.compile(r"^#{1,6}\s")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Slide:
    image: str  # the meme's URL, relative to the deck's page
    alt: str
    caption: str
    width: int
    height: int
    notes: str


@dataclass(frozen=True)
class Deck:
    title: str
    part: int
    description: str
    post_url: str  # the post, relative to the deck's page
    root: str  # the site's root, relative to the deck's page ("../../../")
    slides: tuple[Slide, ...]


def deck_uri(page: str) -> str:
    """Where a post's deck is published, from the site's root."""
    return f"{SLIDES_DIR}/{PurePosixPath(page).with_suffix('').as_posix()}/index.html"


def plain(markdown: str) -> str:
    """Markdown prose as plain text for notes: emphasis, code marks, links and lists undone."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|\*|`)", "", text)  # underscores stay: they are in names
    text = re.sub(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+", "- ", text, flags=re.MULTILINE)
    text = re.sub(r"^[ \t]*(?:!!!|\?\?\?)[ \t]*\w+.*$", "", text, flags=re.MULTILINE)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _shorten(text: str, limit: int = NOTES_LIMIT) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(",;:") + " ..."


LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+")


def _units(lines: list[str]) -> list[str]:
    """Paragraphs and list items, as plain text: what notes are made of."""
    units: list[list[str]] = []
    for line in lines:
        if not line.strip():
            units.append([])
        elif LIST_ITEM.match(line) or not units:
            units.append([line])
        else:
            units[-1].append(line)
    return [text for text in (plain("\n".join(u)) for u in units) if text]


def section_notes(lines: list[str], start: int, end: int) -> str:
    """Notes for a meme whose fence spans lines `start`..`end` (1-based): the prose nearest
    it, between the heading or code block above and the next heading or block below; what
    stands closest to the meme first, so that the notes say what the meme illustrates. A `#`
    line inside a code block (a shell comment) is code, not a heading."""
    prose = numbers.prose_lines("\n".join(lines))

    def heading(index: int) -> bool:
        return prose[index] and bool(HEADING.match(lines[index]))

    first = start - 1
    while first > 0 and prose[first - 1] and not heading(first - 1):
        first -= 1
    last = end
    while last < len(lines) and not heading(last) and not FENCE.match(lines[last]):
        last += 1
    keep = [prose[n] and not heading(n) for n in range(len(lines))]
    above = _units([lines[n] for n in range(first, start - 1) if keep[n]])
    below = _units([lines[n] for n in range(end, last) if keep[n]])
    chosen_above: list[str] = []
    for unit in reversed(above):  # nearest first
        if chosen_above and len(" ".join([unit, *chosen_above])) > NOTES_LIMIT:
            break
        chosen_above.insert(0, unit)
    chosen_below: list[str] = []
    for unit in below:
        if len(" ".join([*chosen_above, *chosen_below, unit])) > NOTES_LIMIT and (
            chosen_above or chosen_below
        ):
            break
        chosen_below.append(unit)
    return _shorten("\n\n".join([*chosen_above, *chosen_below]))


def _root(page: str) -> str:
    """The site's root as seen from `page` (a path from the site's root)."""
    return "../" * len(PurePosixPath(page).parent.parts)


def build_deck(
    page: str, text: str, title: str, part: int, description: str, figures: list[Figure],
    post_url: str, line_spans: list[tuple[int, int]],
) -> Deck:  # fmt: skip
    """The deck of one post: `figures` in page order, `line_spans` their fences' lines."""
    root = _root(deck_uri(page))
    lines = text.splitlines()
    slides = tuple(
        Slide(
            image=root + figure.uri,
            alt=figure.alt,
            caption=figure.caption or " / ".join(figure.captions),
            width=figure.width,
            height=figure.height,
            notes=section_notes(lines, start, end),
        )
        for figure, (start, end) in zip(figures, line_spans, strict=True)
    )
    return Deck(title, part, description, root + post_url, root, slides)


def deck_html(deck: Deck, site_name: str) -> str:
    """The deck's page: every value escaped by Jinja2; its script and style from the site."""
    return (
        template_environment().get_template("deck.html.j2").render(deck=deck, site_name=site_name)
    )


def site_decks(
    entries: Iterable[Entry],
    figures: dict[str, list[Figure]],
    planned: dict[str, list[PlannedMeme]],
    docs: Path,
    urls: dict[str, str],
    site_name: str,
) -> dict[str, str]:
    """Every post of the series that has memes, as a deck (page -> its HTML); `urls` are the
    posts' URLs from the site's root, as the builder publishes them."""
    decks = {}
    for entry in entries:
        page = entry.source
        if not figures.get(page) or page not in urls:
            continue
        spans = [(m.spec.line, m.spec.end_line) for m in planned[page]]
        text = numbers.as_text((docs / page).read_text(encoding="utf-8-sig"))
        deck = build_deck(page, text, entry.title, entry.part, entry.description,
                          figures[page], urls[page], spans)  # fmt: skip
        decks[page] = deck_html(deck, site_name)
    return decks
