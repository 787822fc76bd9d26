"""Text fitting: wrap a caption over 1 to 3 lines at the largest size that fits its box.

Pure layout: it measures with fonts but draws nothing. Sizes are found by binary search over
cached fonts (a few ms a caption) rather than stepping down one point at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations, pairwise

from .fonts import load_font
from .templates import TextBox

LINE_SPACING = 1.12  # line pitch as a multiple of the font's ascent + descent


@dataclass(frozen=True)
class Line:
    text: str
    x: int  # where to draw, with anchor "la" (left, ascender)
    y: int


@dataclass(frozen=True)
class FittedCaption:
    box: TextBox
    text: str
    size: int
    stroke: int
    lines: tuple[Line, ...]


class CaptionTooLong(ValueError):
    """The caption does not fit its box even at the box's minimum size."""

    index: int = 0  # which caption of a meme, set by `fit_captions`


def prepare(text: str, box: TextBox) -> str:
    text = " ".join(text.split())
    return text.upper() if box.style == "upper" else text


def stroke_width(box: TextBox, size: int) -> int:
    return round(box.stroke * size) if box.stroke else 0


@lru_cache(maxsize=65536)
def _ink(font_alias: str, size: int, stroke: int, text: str) -> tuple[int, int, int, int]:
    return load_font(font_alias, size).getbbox(text, anchor="la", stroke_width=stroke)


def _width(box: TextBox, size: int, text: str) -> int:
    left, _, right, _ = _ink(box.font, size, stroke_width(box, size), text)
    return right - left


def _block_height(box: TextBox, size: int, count: int) -> tuple[int, int]:
    """(height of `count` lines, line pitch) at `size`, stroke included."""
    ascent, descent = load_font(box.font, size).getmetrics()
    pitch = round((ascent + descent) * LINE_SPACING)
    stroke = stroke_width(box, size)
    return (count - 1) * pitch + ascent + descent + 2 * stroke, pitch


def _splits(words: list[str], count: int):
    for cuts in combinations(range(1, len(words)), count - 1):
        bounds = (0, *cuts, len(words))
        yield [" ".join(words[a:b]) for a, b in pairwise(bounds)]


def best_wrap(box: TextBox, size: int, words: list[str], count: int) -> list[str] | None:
    """The split into `count` lines whose widest line is narrowest (balanced lines read best)."""
    if len(words) < count:
        return None
    best: tuple[int, list[str]] | None = None
    for lines in _splits(words, count):
        widest = max(_width(box, size, line) for line in lines)
        if best is None or widest < best[0]:
            best = (widest, lines)
    return best[1] if best else None


def _fits(box: TextBox, size: int, words: list[str], width: int, height: int) -> list[str] | None:
    """The wrap with the fewest lines that fits at `size`, or None."""
    for count in range(1, box.max_lines + 1):
        if _block_height(box, size, count)[0] > height:
            return None
        lines = best_wrap(box, size, words, count)
        if lines and max(_width(box, size, line) for line in lines) <= width:
            return lines
    return None


def fit_caption(text: str, box: TextBox, image_size: tuple[int, int]) -> FittedCaption:
    """Lay out `text` in `box` at the largest size that fits; CaptionTooLong if none does."""
    left, top, right, bottom = box.pixels(*image_size)
    width, height = right - left, bottom - top
    prepared = prepare(text, box)
    words = prepared.split(" ")
    low, high = box.min_size, box.max_size
    # Cheap bound first: text far wider than all lines together cannot fit, and trying every
    # split of a very long caption would be slow.
    hopeless = _width(box, low, prepared) > box.max_lines * (width + low)
    if not prepared or hopeless or _fits(box, low, words, width, height) is None:
        raise CaptionTooLong(
            f"does not fit box '{box.name}' ({width}x{height} px) on {box.max_lines} line(s)"
            f" even at the minimum size of {box.min_size} px"
        )
    while low < high:  # largest size that fits: fits(low) holds throughout
        middle = (low + high + 1) // 2
        if _fits(box, middle, words, width, height) is not None:
            low = middle
        else:
            high = middle - 1
    size = low
    lines = _fits(box, size, words, width, height) or []
    placed = _place(box, size, lines, (left, top, right, bottom))
    return FittedCaption(box, prepared, size, stroke_width(box, size), placed)


def _place(
    box: TextBox, size: int, lines: list[str], rect: tuple[int, int, int, int]
) -> tuple[Line, ...]:
    """Draw positions that keep every line's ink inside `rect`, aligned as the box asks."""
    left, top, right, bottom = rect
    block, pitch = _block_height(box, size, len(lines))
    stroke = stroke_width(box, size)
    block_top = {
        "top": top,
        "middle": top + (bottom - top - block) // 2,
        "bottom": bottom - block,
    }[box.valign]
    placed = []
    for index, text in enumerate(lines):
        ink_left, _, ink_right, _ = _ink(box.font, size, stroke, text)
        line_width = ink_right - ink_left
        ink_x = {
            "left": left,
            "center": left + (right - left - line_width) // 2,
            "right": right - line_width,
        }[box.align]
        placed.append(Line(text, ink_x - ink_left, block_top + stroke + index * pitch))
    return tuple(placed)


def fit_captions(
    texts: list[str], boxes: list[TextBox], image_size: tuple[int, int]
) -> list[FittedCaption]:
    """Fit each caption in its box; boxes of one group then share the smallest of their sizes."""
    fitted = []
    for index, (text, box) in enumerate(zip(texts, boxes, strict=True)):
        try:
            fitted.append(fit_caption(text, box, image_size))
        except CaptionTooLong as error:
            error.index = index
            raise
    smallest: dict[str, int] = {}
    for caption in fitted:
        if caption.box.group:
            group = caption.box.group
            smallest[group] = min(smallest.get(group, caption.size), caption.size)
    return [
        fit_caption(c.text, replace(c.box, max_size=smallest[c.box.group]), image_size)
        if c.box.group and c.size > smallest[c.box.group]
        else c
        for c in fitted
    ]
