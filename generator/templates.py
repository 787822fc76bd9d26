"""Meme templates: a picture plus a config of text boxes, validated when loaded.

A template is a folder `img/templates/<name>/` with `template.yml` and its picture. Boxes are
given as fractions of the picture so that the art can be redrawn at another size.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from .art import ArtError, decode
from .errors import Location, MemeError, excerpt
from .fonts import FONT_FILES
from .yamlfile import Located, read_mapping

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
ALIGNS = ("left", "center", "right")
VALIGNS = ("top", "middle", "bottom")
STYLES = ("none", "upper")
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_FONT_SIZE = 400  # px on the 1200 px picture: a third of its width for one letter

BOX_DEFAULTS: dict[str, Any] = {
    "align": "center",
    "valign": "middle",
    "color": "#ffffff",
    "stroke_color": "#000000",
    "stroke": 0.08,  # stroke width as a fraction of the font size; 0 for none
    "style": "upper",
    "font": "sans-bold",
    "max_lines": 3,
    "min_size": 30,  # px on the 1200 px picture: 10 CSS px on a 400 px phone screen
    "max_size": 110,
    "required": True,
    "group": None,  # boxes of one group share one font size, so a ladder reads evenly
}
BOX_KEYS = {"name", "x", "y", "w", "h", *BOX_DEFAULTS}
TEMPLATE_KEYS = {"title", "description", "image", "defaults", "boxes", "keep_clear"}
REGION_KEYS = {"name", "x", "y", "w", "h"}


@dataclass(frozen=True)
class TextBox:
    """Where one caption goes and how it looks."""

    name: str
    x: float
    y: float
    w: float
    h: float
    align: str = "center"
    valign: str = "middle"
    color: str = "#ffffff"
    stroke_color: str = "#000000"
    stroke: float = 0.08
    style: str = "upper"
    font: str = "sans-bold"
    max_lines: int = 3
    min_size: int = 30
    max_size: int = 110
    required: bool = True
    group: str | None = None

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box as (left, top, right, bottom) pixels of a picture of that size."""
        left = round(self.x * width)
        top = round(self.y * height)
        return left, top, round((self.x + self.w) * width), round((self.y + self.h) * height)


@dataclass(frozen=True)
class Region:
    """A part of the art no caption may cover (a face, the flower, the tower's antenna):
    the engine refuses a layout whose text crosses it."""

    name: str
    x: float
    y: float
    w: float
    h: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        return (round(self.x * width), round(self.y * height),
                round((self.x + self.w) * width), round((self.y + self.h) * height))  # fmt: skip


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    image_path: Path
    width: int
    height: int
    boxes: tuple[TextBox, ...]
    art_sha256: str = field(repr=False)
    keep_clear: tuple[Region, ...] = ()

    @property
    def box_names(self) -> list[str]:
        return [box.name for box in self.boxes]

    @property
    def required_boxes(self) -> int:
        return sum(1 for box in self.boxes if box.required)


def _field_error(config: Located, path: Path, key: str, problem: str, fix: str) -> MemeError:
    return MemeError(Location(path, config.key_lines.get(key, config.line), key), problem, fix)


def _check_box(raw: Any, index: int, where: Location, defaults: dict[str, Any]) -> TextBox:
    label = f"boxes[{index}]"
    if not isinstance(raw, dict):
        raise MemeError(where, f"{label} must be a mapping", "give name, x, y, w, h and options")
    unknown = set(raw) - BOX_KEYS
    if unknown:
        raise MemeError(
            where,
            f"{label} has unknown keys {sorted(unknown)}",
            f"known keys: {', '.join(sorted(BOX_KEYS))}",
        )
    values = {**BOX_DEFAULTS, **defaults, **raw}
    name = values.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise MemeError(where, f"{label} needs a 'name' of lowercase letters, digits and dashes")
    label = f"box '{name}'"
    _fraction_rect(values, label, where)
    checks = [
        ("align", values["align"] in ALIGNS, f"one of {', '.join(ALIGNS)}"),
        ("valign", values["valign"] in VALIGNS, f"one of {', '.join(VALIGNS)}"),
        ("style", values["style"] in STYLES, f"one of {', '.join(STYLES)}"),
        ("font", values["font"] in FONT_FILES, f"one of {', '.join(FONT_FILES)}"),
        ("color", bool(HEX_COLOUR.fullmatch(str(values["color"]))), "a colour like #1a2b3c"),
        (
            "stroke_color",
            bool(HEX_COLOUR.fullmatch(str(values["stroke_color"]))),
            "a colour like #1a2b3c",
        ),
        (
            "stroke",
            isinstance(values["stroke"], int | float)
            and not isinstance(values["stroke"], bool)
            and 0 <= values["stroke"] <= 0.2,
            "a fraction of the font size from 0 to 0.2",
        ),
        ("max_lines", values["max_lines"] in (1, 2, 3), "1, 2 or 3"),
        (
            "max_size",
            _whole(values["max_size"]) and 12 <= values["max_size"] <= MAX_FONT_SIZE,
            f"whole pixels from 12 to {MAX_FONT_SIZE}",
        ),
        (
            "min_size",
            _whole(values["min_size"])
            and _whole(values["max_size"])
            and 12 <= values["min_size"] <= values["max_size"],
            "whole pixels, at least 12 and at most max_size",
        ),
        ("required", isinstance(values["required"], bool), "true or false"),
        ("group", values["group"] is None or isinstance(values["group"], str), "a group name"),
    ]
    for key, ok, expected in checks:
        if not ok:
            raise MemeError(
                where, f"{label} has {key}={excerpt(values[key])}", f"expected {expected}"
            )
    return TextBox(**values)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fraction_rect(values: dict, label: str, where: Location) -> None:
    """x, y, w, h as fractions of the picture, inside it (values are made floats)."""
    for key in ("x", "y", "w", "h"):
        value = values.get(key)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise MemeError(where, f"{label} needs '{key}' as a fraction of the picture (0 to 1)")
        values[key] = float(value)
    if values["w"] <= 0 or values["h"] <= 0:
        raise MemeError(where, f"{label} has an empty size", "w and h must be above 0")
    if (
        values["x"] < 0
        or values["y"] < 0
        or values["x"] + values["w"] > 1.0001
        or values["y"] + values["h"] > 1.0001
    ):
        raise MemeError(
            where,
            f"{label} lies outside its image (x={values['x']}, y={values['y']},"
            f" w={values['w']}, h={values['h']})",
            "x + w and y + h must stay within 0..1",
        )


def _check_region(raw: Any, index: int, where: Location) -> Region:
    label = f"keep_clear[{index}]"
    if not isinstance(raw, dict) or set(raw) - REGION_KEYS or not set(raw) >= REGION_KEYS:
        raise MemeError(
            where,
            f"{label} must be a mapping of exactly {', '.join(sorted(REGION_KEYS))}",
            "name the part of the art and give its rectangle as fractions, e.g."
            " {name: face, x: 0.4, y: 0.2, w: 0.2, h: 0.3}",
        )
    values = dict(raw)
    if not isinstance(values["name"], str) or not NAME_PATTERN.fullmatch(values["name"]):
        raise MemeError(where, f"{label} needs a 'name' of lowercase letters, digits and dashes")
    _fraction_rect(values, f"keep-clear region '{values['name']}'", where)
    return Region(**values)


# Pictures decoded in full once, by SHA-256: a picture that decoded cleanly does so again, so
# each build checks only new or changed art (a full decode is most of a template's load time).
# `generator.plans` keeps this between builds.
_DECODED: dict[str, tuple[int, int]] = {}


def decoded_arts() -> dict[str, tuple[int, int]]:
    return dict(_DECODED)


def remember_decoded(arts: dict[str, tuple[int, int]]) -> None:
    _DECODED.update(arts)


def load_template(folder: Path, shown: Path | None = None) -> Template:
    """Load and validate `folder/template.yml` and its picture; errors name the folder as
    `shown` (as authors see it, from the project's root) when given."""
    shown = shown or folder
    path = shown / "template.yml"  # in messages; files are read from `folder`
    config_file = folder / "template.yml"
    if config_file.is_symlink() or not config_file.is_file():
        raise MemeError(
            Location(path),
            "template.yml is a link (or not a file), which is never followed",
            f"put the file itself in {shown}",
        )
    config = read_mapping(config_file, "template config", shown=path)
    data = config.data
    unknown = set(data) - TEMPLATE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise _field_error(
            config, path, key, f"unknown keys {sorted(unknown)}", f"known: {sorted(TEMPLATE_KEYS)}"
        )
    image = data.get("image")
    if not isinstance(image, str) or not image:
        raise _field_error(config, path, "image", "needs 'image', the picture's file name", "")
    image_path = (folder / image).resolve()
    if not image_path.is_relative_to(folder.resolve()) or (folder / image).is_symlink():
        raise _field_error(
            config,
            path,
            "image",
            f"the picture {excerpt(image)} leaves the template's folder",
            f"keep the picture inside {shown}",
        )
    try:
        art_bytes = image_path.read_bytes()
        art_sha256 = hashlib.sha256(art_bytes).hexdigest()
        if art_sha256 in _DECODED:
            width, height = _DECODED[art_sha256]
        else:
            width, height = decode(art_bytes, art_sha256)[1]
            _DECODED[art_sha256] = (width, height)
    except FileNotFoundError:
        raise _field_error(
            config,
            path,
            "image",
            f"the picture {excerpt(image)} does not exist",
            "check the file name",
        ) from None
    except ArtError as error:
        raise _field_error(
            config, path, "image", f"{excerpt(image)} is no size for a meme: {error}",
            "scale or crop the picture (most templates are 1200 px wide)",
        ) from None  # fmt: skip
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise _field_error(
            config,
            path,
            "image",
            f"{excerpt(image)} is not an image Pillow can read ({error})",
            "use a PNG, JPEG or WebP",
        ) from None
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - set(BOX_DEFAULTS):
        raise _field_error(
            config, path, "defaults", "defaults must be box options", f"{sorted(BOX_DEFAULTS)}"
        )
    raw_boxes = data.get("boxes")
    if not isinstance(raw_boxes, list) or not raw_boxes:
        raise _field_error(config, path, "boxes", "needs a list of text 'boxes'", "")
    where = Location(path, config.key_lines.get("boxes"), "boxes")
    lines = config.item_lines.get("boxes", [])

    def box_where(index: int) -> Location:  # each box's own line, where YAML gave one
        return Location(path, lines[index], "boxes") if index < len(lines) else where

    boxes = tuple(_check_box(raw, i, box_where(i), defaults) for i, raw in enumerate(raw_boxes))
    names = [box.name for box in boxes]
    if len(set(names)) != len(names):
        raise MemeError(where, f"box names repeat: {names}", "give each box its own name")
    raw_regions = data.get("keep_clear") or []
    clear_where = Location(path, config.key_lines.get("keep_clear"), "keep_clear")
    if not isinstance(raw_regions, list):
        raise MemeError(clear_where, "keep_clear must be a list of regions", "see boxes")
    region_lines = config.item_lines.get("keep_clear", [])
    regions = tuple(
        _check_region(
            raw, i, Location(path, region_lines[i], "keep_clear") if i < len(region_lines)
            else clear_where,
        )
        for i, raw in enumerate(raw_regions)
    )  # fmt: skip
    return Template(
        name=folder.name,
        title=str(data.get("title") or folder.name),
        description=str(data.get("description") or ""),
        image_path=image_path,
        width=width,
        height=height,
        boxes=boxes,
        art_sha256=art_sha256,
        keep_clear=regions,
    )


class TemplateLibrary:
    """All templates under one folder, loaded on first use."""

    def __init__(self, root: Path, shown: Path | None = None) -> None:
        self.root = root
        self.shown = shown or root  # the folder as errors name it

    def names(self) -> list[str]:
        """The folders that hold a template.yml (a link among them is refused by `get`)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if (p / "template.yml").is_file() or (p / "template.yml").is_symlink()
        )  # fmt: skip

    def get(self, name: str) -> Template:
        """The named template; KeyError if there is none (the caller says where it was asked)."""
        if not NAME_PATTERN.fullmatch(name) or name not in self.names():
            raise KeyError(name)
        folder = self.root / name
        if folder.is_symlink() or not folder.resolve().is_relative_to(self.root.resolve()):
            raise MemeError(
                Location(self.shown / name),
                "the template's folder is a link out of the templates folder, which is never"
                " followed",
                f"copy the template into {self.shown}",
            )
        signature = tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.iterdir())
        )
        return _load_cached(folder, self.shown / name, signature)

    def problems(self) -> list[MemeError]:
        """What is wrong with every template, used or not: a broken one fails the build even
        before a post asks for it (gathered, so an author sees them all at once)."""

        def problem(name: str) -> MemeError | None:
            if not NAME_PATTERN.fullmatch(name):
                return MemeError(
                    Location(self.shown / name),
                    f"the template folder {excerpt(name)} is not a template's name",
                    "rename it with lowercase letters, digits and '-' (posts name it so)",
                )
            try:
                self.get(name)
            except MemeError as error:
                return error
            return None

        # In threads: decoding pictures is most of the time, and Pillow decodes without the GIL.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            return [error for error in pool.map(problem, self.names()) if error is not None]


@lru_cache(maxsize=64)
def _load_cached(
    folder: Path, shown: Path, signature: tuple[tuple[str, int, int], ...]
) -> Template:
    # Keyed by the folder's file times and sizes, so that `mkdocs serve` sees template edits.
    return load_template(folder, shown)
