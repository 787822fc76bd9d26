"""Fonts come from installed dependencies, never from the network: DejaVu (shipped by
matplotlib) for Latin, Greek, Cyrillic, Hebrew and Arabic, then Noto Sans CJK (its own pinned
package) for Japanese, Chinese and Korean. Each alias names a chain: a character is set in the
first font of the chain that has it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from PIL import ImageFont, features

from .errors import Location, MemeError


@dataclass(frozen=True)
class FontSource:
    """One font file inside an installed package, and the licence published with the memes."""

    package: str  # found without importing it (importing matplotlib is slow)
    file: str  # path inside the package
    licence: str  # path inside the package, or "dist-info:<name>" for the wheel's licence file
    published_as: str  # the licence's name beside the memes


DEJAVU_LICENCE = ("mpl-data/fonts/ttf/LICENSE_DEJAVU", "LICENSE-DejaVu-fonts.txt")


def _dejavu(file: str) -> FontSource:
    return FontSource("matplotlib", f"mpl-data/fonts/ttf/{file}", *DEJAVU_LICENCE)


NOTO_CJK_BOLD = FontSource(
    "noto_cjk_sans_jp_bold", "NotoSansCJKjp-Bold.otf", "dist-info:LICENSE", "LICENSE-Noto-CJK.txt"
)

# Alias -> its primary font. Boxes name one of these (template.yml `font`).
FONT_FILES = {
    "sans-bold": _dejavu("DejaVuSans-Bold.ttf"),
    "sans": _dejavu("DejaVuSans.ttf"),
    "serif-bold": _dejavu("DejaVuSerif-Bold.ttf"),
    "mono-bold": _dejavu("DejaVuSansMono-Bold.ttf"),
}
# What each alias falls back to, in order. DejaVu Serif and Mono lack Hebrew (Serif, Arabic
# too), so they fall back to DejaVu Sans; CJK comes in bold only (a regular face would add
# 14 MB for a style no template uses yet).
FALLBACKS = {
    "sans-bold": (NOTO_CJK_BOLD,),
    "sans": (NOTO_CJK_BOLD,),
    "serif-bold": (_dejavu("DejaVuSans-Bold.ttf"), NOTO_CJK_BOLD),
    "mono-bold": (_dejavu("DejaVuSans-Bold.ttf"), NOTO_CJK_BOLD),
}


# Every font any chain uses, by "package/file" (how saved layouts name them).
SOURCES = {
    f"{source.package}/{source.file}": source
    for alias in FONT_FILES
    for source in (FONT_FILES[alias], *FALLBACKS[alias])
}


@lru_cache(maxsize=8)
def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MemeError(
            Location(package),
            f"the package {package}, which ships fonts the memes need, is not installed",
            "run `make site` (it installs the pinned packages)",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def source_path(source: FontSource) -> Path:
    return package_dir(source.package) / source.file


def chain(alias: str) -> tuple[FontSource, ...]:
    """The fonts of an alias, primary first; KeyError for an unknown alias."""
    return (FONT_FILES[alias], *FALLBACKS[alias])


def font_path(alias: str) -> Path:
    """The primary font file behind an alias; KeyError for an unknown alias."""
    return source_path(FONT_FILES[alias])


@lru_cache(maxsize=16)
def verified_path(source: FontSource) -> Path:
    """The font's file, once Pillow has read it as a font from the file itself.

    Given a path it cannot read as a font, Pillow looks for a font of the same file name in
    the system's folders and uses that (Debian has DejaVu there): a damaged package font would
    be replaced in silence while the memes' digests hash the damaged file. So each font is
    first opened as a file object, which Pillow never replaces; checked once per process, on
    first use (a build that reuses every layout loads no font)."""
    path = source_path(source)
    try:
        with path.open("rb") as handle:
            ImageFont.truetype(handle, 12)
    except OSError as error:
        raise MemeError(
            Location(path),
            f"the font {source.file} of the package {source.package} cannot be read as a font"
            f" ({error})",
            "reinstall it: `make clean`, then `make site`",
        ) from None
    return path


@lru_cache(maxsize=8)
def coverage(source: FontSource) -> frozenset[int]:
    """The code points a font has glyphs for (read once: 0.15 s for the CJK font)."""
    from fontTools.ttLib import TTFont  # only when a caption leaves ASCII (10 ms to import)

    with TTFont(verified_path(source), lazy=True) as font:
        return frozenset(font.getBestCmap())


@lru_cache(maxsize=1024)
def load(source: FontSource, size: int, shaped: bool) -> ImageFont.FreeTypeFont:
    """A cached font at one size: fitting tries many sizes, and loading is the slow part.

    `shaped` text (right-to-left, joined or with marks) goes through raqm (HarfBuzz and
    FriBiDi); the rest through the basic engine, so that Latin output does not depend on
    whether this machine's Pillow has raqm.
    """
    engine = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(verified_path(source)), size, layout_engine=engine)


def load_font(alias: str, size: int) -> ImageFont.FreeTypeFont:
    return load(FONT_FILES[alias], size, False)


def raqm_available() -> bool:
    return bool(features.check("raqm"))


@lru_cache(maxsize=1)
def layout_versions() -> dict[str, str | None]:
    """What the pixels of shaped text depend on besides the fonts: part of every meme's hash."""
    versions: dict[str, str | None] = {"pillow": PIL.__version__}
    for feature in ("freetype2", "raqm", "fribidi", "harfbuzz"):
        versions[feature] = features.version(feature)
    return versions


def licences(sources: set[FontSource]) -> list[tuple[str, Path]]:
    """(name beside the memes, file) of each licence the given fonts come with."""
    found: dict[str, Path] = {}
    for source in sources:
        if source.licence.startswith("dist-info:"):
            from importlib.metadata import distribution

            dist = distribution(source.package)
            name = source.licence.removeprefix("dist-info:")
            path = next(Path(dist.locate_file(f)) for f in dist.files or [] if f.name == name)
        else:
            path = package_dir(source.package) / source.licence
        found[source.published_as] = path
    return sorted(found.items())
