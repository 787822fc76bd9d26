"""Text fitting: wrap a caption over 1 to 3 lines at the largest size that fits its box.

Pure layout: it measures with fonts but draws nothing. Sizes are found by binary search over
cached fonts (a few ms a caption) rather than stepping down one point at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations, pairwise

from .fonts import FontSource, load
from .shaping import Piece, right_to_left, set_line, sources_of
from .templates import TextBox

LINE_SPACING = 1.12  # line pitch as a multiple of the font's ascent + descent


@dataclass(frozen=True)
class Line:
    text: str
    x: int  # where the line starts; its pieces are drawn from here with anchor "ls"
    y: int  # top of the line
    baseline: int
    pieces: tuple[Piece, ...] = ()


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


def _width(box: TextBox, size: int, text: str) -> int:
    left, right = set_line(box.font, size, stroke_width(box, size), text)[1]
    return right - left


@lru_cache(maxsize=4096)
def _metrics(sources: frozenset[FontSource], size: int) -> tuple[int, int]:
    """(ascent, descent) that hold every font a caption is set in, so mixed lines share a
    baseline and none pokes out of its box."""
    pairs = [load(source, size, False).getmetrics() for source in sources]
    return max(a for a, _ in pairs), max(d for _, d in pairs)


def _block_height(
    box: TextBox, size: int, count: int, sources: frozenset[FontSource]
) -> tuple[int, int]:
    """(height of `count` lines, line pitch) at `size`, stroke included."""
    ascent, descent = _metrics(sources, size)
    pitch = round((ascent + descent) * LINE_SPACING)
    stroke = stroke_width(box, size)
    return (count - 1) * pitch + ascent + descent + 2 * stroke, pitch


# Japanese and Chinese lines may break between any two characters, except before closing
# punctuation and small kana, or after opening brackets (kinsoku). Korean breaks at spaces.
# Full-width punctuation on purpose (ruff's RUF001 would have it ASCII).
NO_BREAK_BEFORE = frozenset(
    "、。，．・：；？！ー）」』】〕〉》…‥"  # noqa: RUF001
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ々,.!?)"
)
NO_BREAK_AFTER = frozenset("（「『【〔〈《(")  # noqa: RUF001


def _breaks_anywhere(char: str) -> bool:
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
    )


def tokens(text: str) -> list[tuple[str, str]]:
    """(glue before, text) of each unbreakable piece: words, or CJK characters."""
    found: list[tuple[str, str]] = []
    for word in text.split(" "):
        glue = " "
        for index, char in enumerate(word):
            previous = word[index - 1] if index else ""
            joined = index and not (
                (_breaks_anywhere(char) or _breaks_anywhere(previous))
                and char not in NO_BREAK_BEFORE
                and previous not in NO_BREAK_AFTER
            )
            if joined:
                found[-1] = (found[-1][0], found[-1][1] + char)
            else:
                found.append((glue if not index else "", char))
            glue = ""
        if not word:
            found.append((" ", ""))
    if found:
        found[0] = ("", found[0][1])
    return found


def _join(pieces: list[tuple[str, str]]) -> str:
    """The text of a line made of `pieces` (the first one's glue is dropped)."""
    return "".join((glue if index else "") + text for index, (glue, text) in enumerate(pieces))


def _splits(words: list[tuple[str, str]], count: int):
    for cuts in combinations(range(1, len(words)), count - 1):
        bounds = (0, *cuts, len(words))
        yield [_join(words[a:b]) for a, b in pairwise(bounds)]


def best_wrap(
    box: TextBox, size: int, words: list[tuple[str, str]], count: int
) -> list[str] | None:
    """The split into `count` lines whose widest line is narrowest (balanced lines read best)."""
    if len(words) < count:
        return None
    best: tuple[int, list[str]] | None = None
    for lines in _splits(words, count):
        widest = max(_width(box, size, line) for line in lines)
        if best is None or widest < best[0]:
            best = (widest, lines)
    return best[1] if best else None


def _lines_needed(box: TextBox, size: int, words: list[tuple[str, str]], width: int) -> int:
    """The fewest lines `words` fit in at `size` (filling each line greedily, which is
    optimal for that); a number above max_lines when they do not fit at all. A few
    measurements a size instead of one for every split."""
    count, start = 1, 0
    for end in range(1, len(words) + 1):
        if _width(box, size, _join(words[start:end])) <= width:
            continue
        if end - 1 == start:  # one word alone is too wide
            return box.max_lines + 1
        count, start = count + 1, end - 1
        if count > box.max_lines or _width(box, size, _join(words[start:end])) > width:
            return box.max_lines + 1
    return count


def _fits(
    box: TextBox,
    size: int,
    words: list[tuple[str, str]],
    area: tuple[int, int, frozenset[FontSource]],
) -> int | None:
    """How many lines the text takes at `size` when it fits the box, or None."""
    width, height, sources = area
    count = _lines_needed(box, size, words, width)
    if count > box.max_lines or _block_height(box, size, count, sources)[0] > height:
        return None
    return count


def fit_caption(text: str, box: TextBox, image_size: tuple[int, int]) -> FittedCaption:
    """Lay out `text` in `box` at the largest size that fits; CaptionTooLong if none does."""
    left, top, right, bottom = box.pixels(*image_size)
    width, height = right - left, bottom - top
    prepared = prepare(text, box)
    words = tokens(prepared)
    area = (width, height, sources_of(box.font, prepared))
    low, high = box.min_size, box.max_size
    # Cheap bound first: text far wider than all lines together cannot fit, and trying every
    # split of a very long caption would be slow.
    hopeless = _width(box, low, prepared) > box.max_lines * (width + low)
    if not prepared or hopeless or _fits(box, low, words, area) is None:
        raise CaptionTooLong(
            f"does not fit box '{box.name}' ({width}x{height} px) on {box.max_lines} line(s)"
            f" even at the minimum size of {box.min_size} px"
        )
    while low < high:  # largest size that fits: fits(low) holds throughout
        middle = (low + high + 1) // 2
        if _fits(box, middle, words, area) is not None:
            low = middle
        else:
            high = middle - 1
    size = low
    # The balanced split into that many lines: no line wider than the greedy one's widest.
    lines = best_wrap(box, size, words, _fits(box, size, words, area) or 1) or []
    placed = _place(box, size, lines, (left, top, right, bottom), area[2])
    return FittedCaption(box, prepared, size, stroke_width(box, size), placed)


def _place(
    box: TextBox,
    size: int,
    lines: list[str],
    rect: tuple[int, int, int, int],
    sources: frozenset[FontSource],
) -> tuple[Line, ...]:
    """Draw positions that keep every line's ink inside `rect`, aligned as the box asks."""
    left, top, right, bottom = rect
    block, pitch = _block_height(box, size, len(lines), sources)
    ascent = _metrics(sources, size)[0]
    stroke = stroke_width(box, size)
    block_top = {
        "top": top,
        "middle": top + (bottom - top - block) // 2,
        "bottom": bottom - block,
    }[box.valign]
    placed = []
    # Right-to-left captions start at the right: a box's left and right swap for them.
    align = box.align
    if lines and align != "center" and right_to_left(" ".join(lines)):
        align = "right" if align == "left" else "left"
    for index, text in enumerate(lines):
        pieces, (ink_left, ink_right) = set_line(box.font, size, stroke, text)
        line_width = ink_right - ink_left
        ink_x = {
            "left": left,
            "center": left + (right - left - line_width) // 2,
            "right": right - line_width,
        }[align]
        y = block_top + stroke + index * pitch
        placed.append(Line(text, ink_x - ink_left, y, y + ascent, pieces))
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


def ink_rects(caption: FittedCaption) -> list[tuple[int, int, int, int]]:
    """Each line's ink as (left, top, right, bottom), stroke included: what a reader sees."""
    sources = sources_of(caption.box.font, caption.text)
    ascent, descent = _metrics(sources, caption.size)
    rects = []
    for line in caption.lines:
        box, size, stroke = caption.box, caption.size, caption.stroke
        _, (ink_left, ink_right) = set_line(box.font, size, stroke, line.text)
        top = line.y - caption.stroke
        rects.append((line.x + ink_left, top, line.x + ink_right,
                      line.y + ascent + descent + caption.stroke))  # fmt: skip
    return rects


def crossings(
    captions: list[FittedCaption], regions, image_size: tuple[int, int]
) -> list[tuple[int, str]]:
    """(caption index, region name) for every caption whose ink enters a keep-clear region."""
    found = []
    for index, caption in enumerate(captions):
        for region in regions:
            rl, rt, rr, rb = region.pixels(*image_size)
            if any(
                left < rr and right > rl and top < rb and bottom > rt
                for left, top, right, bottom in ink_rects(caption)
            ):
                found.append((index, region.name))
    return found
