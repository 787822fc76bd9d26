"""Template pictures, decoded once per process and shared by the template check and drawing.

Keyed by content (SHA-256), so `mkdocs serve` sees a redrawn picture; a cold build decodes
each picture exactly once.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

from PIL import Image

OUTPUT_WIDTH = 1200
# What a meme's picture may be, checked from its header before anything is decoded or scaled:
# a few hundred bytes of 2 x 20,000 px art would scale to 1200 x 12,000,000 px (gigabytes).
MIN_SIDE, MAX_SIDE = 200, 8000
MAX_ASPECT = 4  # at most four times as tall as wide, or as wide as tall


class ArtError(ValueError):
    """A picture that decodes but is no size for a meme."""


def check_size(width: int, height: int) -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ArtError(
            f"it is {width} x {height} px; a template's picture is {MIN_SIDE} to {MAX_SIDE} px"
            " a side"
        )
    if max(width / height, height / width) > MAX_ASPECT:
        raise ArtError(
            f"it is {width} x {height} px; a template's picture is at most {MAX_ASPECT} times as"
            " tall as it is wide, or as wide as it is tall"
        )


_KEEP = 32
_pictures: OrderedDict[str, Image.Image] = OrderedDict()
_lock = threading.Lock()


def output_size(width: int, height: int) -> tuple[int, int]:
    """The size of a meme drawn on art of `width` x `height` (scaled to 1200 px wide), known
    without decoding the art (as `decode` scales it)."""
    if width == OUTPUT_WIDTH:
        return width, height
    return OUTPUT_WIDTH, round(height * OUTPUT_WIDTH / width)


def decode(data: bytes, sha256: str) -> tuple[Image.Image, tuple[int, int]]:
    """Verify and decode a picture completely: (it in RGB at 1200 px wide, its own size).
    Pillow's errors when it is not sound; a decompression bomb is one of them."""
    with warnings.catch_warnings():
        # A picture big enough to warn is a decompression bomb to us: refuse it.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Decoded from bytes, so Pillow's messages carry no path of this machine.
        with Image.open(io.BytesIO(data)) as picture:
            check_size(*picture.size)  # from the header: before a pixel is decoded
            picture.verify()
        with Image.open(io.BytesIO(data)) as picture:
            size = picture.size
            art = picture.convert("RGB")  # decodes it all: a truncated file fails here
    if art.width != OUTPUT_WIDTH:
        art = art.resize(output_size(*art.size), Image.Resampling.LANCZOS)
    with _lock:
        _pictures[sha256] = art
        while len(_pictures) > _KEEP:
            _pictures.popitem(last=False)
    return art, size


def picture(path: Path, sha256: str) -> Image.Image:
    """The picture with this digest at 1200 px wide (decoded now if not yet)."""
    with _lock:
        art = _pictures.get(sha256)
    return art if art is not None else decode(path.read_bytes(), sha256)[0]
