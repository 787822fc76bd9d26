"""Fonts come from an installed dependency (matplotlib ships DejaVu), never from the network."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# Alias -> file in matplotlib's mpl-data/fonts/ttf. DejaVu is free to embed (see its licence).
FONT_FILES = {
    "sans-bold": "DejaVuSans-Bold.ttf",
    "sans": "DejaVuSans.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
}
LICENCE_FILE = "LICENSE_DEJAVU"


@lru_cache(maxsize=1)
def font_dir() -> Path:
    """matplotlib's font folder, found without importing matplotlib (which is slow to import)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: it ships the fonts; run `make site`")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def font_path(alias: str) -> Path:
    """The file behind a font alias; KeyError for an unknown alias."""
    return font_dir() / FONT_FILES[alias]


def licence_path() -> Path:
    return font_dir() / LICENCE_FILE


@lru_cache(maxsize=512)
def load_font(alias: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached font at one size: fitting tries many sizes, and loading is the slow part.

    The basic layout engine is forced so that output bytes do not depend on whether this
    machine's Pillow has raqm.
    """
    return ImageFont.truetype(str(font_path(alias)), size, layout_engine=ImageFont.Layout.BASIC)
