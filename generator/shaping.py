"""Which font sets each character, and where each piece of a line goes.

A caption line is cut into pieces, each set in one font of its alias's chain (the first that
has the character). Pieces with right-to-left, joined or marked text are shaped by raqm;
the rest use the basic engine. Pure layout: fonts are measured, nothing is drawn.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .fonts import FontSource, chain, coverage, load

# Format characters (zero-width joiners, direction marks) and marks belong to the character
# before them: they are shaped with it and need no glyph of their own in the chain's search.
ATTACHED = frozenset({"Cf", "Mn", "Mc", "Me"})
RIGHT_TO_LEFT = frozenset({"R", "AL"})


@dataclass(frozen=True)
class Piece:
    """A run of a line in one font, `dx` pixels after the line's start."""

    source: FontSource
    text: str
    shaped: bool
    dx: int = 0


def needs_shaping(text: str) -> bool:
    """Right-to-left, joined or marked text, which the basic engine draws wrongly."""
    if text.isascii():
        return False
    for char in text:
        if unicodedata.bidirectional(char) in RIGHT_TO_LEFT | {"AN"}:
            return True
        if unicodedata.category(char) in ATTACHED:
            return True
        if 0x0900 <= ord(char) <= 0x109F or 0x1780 <= ord(char) <= 0x17FF:  # Indic, SE Asian
            return True
    return False


def _source_for(alias: str, char: str) -> FontSource | None:
    for source in chain(alias):
        if ord(char) in coverage(source):
            return source
    return None


def missing_characters(alias: str, text: str) -> list[str]:
    """Characters no font of the alias's chain has (format characters and spaces aside)."""
    if text.isascii() and text.isprintable():
        return []  # every chain starts with a DejaVu font, which has all of printable ASCII
    missing = []
    for char in text:
        if char.isspace() or unicodedata.category(char) in ATTACHED:
            continue
        if _source_for(alias, char) is None and char not in missing:
            missing.append(char)
    return missing


def visible(text: str) -> bool:
    """Whether `text` has anything to read: not only spaces, zero-width characters or marks."""
    # Marks alone (accents with no letter to sit on) draw only stray ink: not a caption.
    invisible = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"}
    return any(not char.isspace() and unicodedata.category(char) not in invisible for char in text)


def right_to_left(text: str) -> bool:
    """The direction of a line, from its first strong character (as Unicode's bidi does)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return False
        if kind in RIGHT_TO_LEFT:
            return True
    return False


def _runs(alias: str, text: str) -> list[tuple[FontSource, str]]:
    """Logical runs of one font each; spaces and attached characters join the current run."""
    primary = chain(alias)[0]
    if text.isascii():  # every font's first chain member has ASCII: one run, no lookups
        return [(primary, text)]
    runs: list[tuple[FontSource, str]] = []
    for char in text:
        attached = char.isspace() or unicodedata.category(char) in ATTACHED
        source = None if attached else _source_for(alias, char) or primary
        if runs and (source is None or source == runs[-1][0]):
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
        else:
            runs.append((source or primary, char))
    return runs


@lru_cache(maxsize=65536)
def set_line(
    alias: str, size: int, stroke: int, text: str
) -> tuple[tuple[Piece, ...], tuple[int, int]]:
    """The pieces of a line placed left to right, and its ink's (left, right) in pixels."""
    runs = _runs(alias, text)
    if right_to_left(text):
        runs.reverse()  # pieces go right to left; raqm orders the text inside each piece
    pieces, x, left, right = [], 0, None, None
    for source, run in runs:
        shaped = needs_shaping(run)
        font = load(source, size, shaped)
        ink_left, _, ink_right, _ = font.getbbox(run, anchor="ls", stroke_width=stroke)
        if ink_right > ink_left:
            left = x + ink_left if left is None else min(left, x + ink_left)
            right = x + ink_right if right is None else max(right, x + ink_right)
        pieces.append(Piece(source, run, shaped, x))
        if len(runs) > 1:  # only a following piece needs to know where this one ends
            x += round(font.getlength(run))
    return tuple(pieces), (left or 0, right or 0)


def sources_of(alias: str, text: str) -> frozenset[FontSource]:
    """The fonts a text is set in: its metrics and its hash depend on these alone."""
    return frozenset(source for source, _ in _runs(alias, text))
