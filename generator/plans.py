"""Layouts kept between builds, so that a rebuild where nothing changed fits no caption.

Fitting is most of what planning costs in a fresh process (about 0.45 s for the series'
17 memes against 0.03 s to read this file). Each entry is keyed by everything the layout
depends on: the renderer and layout-engine versions, the template's boxes and picture size,
the captions, the encoding, and the files (size and time) of every font the boxes may use.
An entry that does not read back cleanly is planned afresh; nothing else trusts this file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from . import RENDERER_VERSION
from .files import write_atomically
from .fitting import FittedCaption, Line
from .fonts import SOURCES, chain, layout_versions, source_path
from .render import Encoding
from .shaping import Piece
from .templates import Template, decoded_arts, remember_decoded

PLANS_FILE = "plans.json"
SCHEMA = 1


def _font_key(source) -> str:
    return f"{source.package}/{source.file}"


def plan_key(template: Template, captions: tuple[str, ...], encoding: Encoding) -> str:
    fonts = {_font_key(s): s for box in template.boxes for s in chain(box.font)}
    stats = {}
    for key, source in sorted(fonts.items()):
        status = source_path(source).stat()
        stats[key] = [status.st_size, status.st_mtime_ns]
    inputs = {
        "schema": SCHEMA,
        "renderer": RENDERER_VERSION,
        "layout": layout_versions(),
        "template": template.name,
        "boxes": [asdict(box) for box in template.boxes],
        # A plan is kept only once its captions were found clear of these: reusing it
        # reuses that check too.
        "keep_clear": [asdict(region) for region in template.keep_clear],
        "art": [template.art_sha256, template.width, template.height],
        "captions": list(captions),
        "encoding": asdict(encoding),
        "fonts": stats,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def layout_to_json(captions: tuple[FittedCaption, ...]) -> list[dict]:
    return [
        {
            "text": caption.text,
            "size": caption.size,
            "stroke": caption.stroke,
            "lines": [
                [
                    line.text,
                    line.x,
                    line.y,
                    line.baseline,
                    [[_font_key(p.source), p.text, p.shaped, p.dx] for p in line.pieces],
                ]
                for line in caption.lines
            ],
        }
        for caption in captions
    ]


def layout_from_json(data: list[dict], template: Template) -> tuple[FittedCaption, ...]:
    """The fitted captions of an entry; KeyError, TypeError or ValueError if it is damaged."""
    captions = []
    for box, caption in zip(template.boxes, data, strict=False):
        lines = tuple(
            Line(
                str(text),
                int(x),
                int(y),
                int(baseline),
                tuple(Piece(SOURCES[key], str(t), bool(s), int(dx)) for key, t, s, dx in pieces),
            )
            for text, x, y, baseline, pieces in caption["lines"]
        )
        captions.append(
            FittedCaption(
                box, str(caption["text"]), int(caption["size"]), int(caption["stroke"]), lines
            )
        )
    if len(captions) != len(data):
        raise ValueError("more captions than boxes")
    return tuple(captions)


class PlanStore:
    """The plans file of one cache folder: read once, written once if anything changed."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / PLANS_FILE
        self.entries: dict[str, dict] = {}
        self.used: dict[str, dict] = {}
        self.arts: dict[str, tuple[int, int]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("schema") == SCHEMA:
                entries = dict(data.get("plans") or {})
                arts = {
                    str(sha): (int(size[0]), int(size[1]))
                    for sha, size in dict(data.get("arts") or {}).items()
                }
                self.entries, self.arts = entries, arts  # both, or neither
        except (OSError, ValueError, TypeError, IndexError):
            pass  # no plans yet, or a damaged file: plan afresh
        remember_decoded(self.arts)

    def get(self, key: str) -> dict | None:
        entry = self.entries.get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict) -> None:
        self.used[key] = entry

    def save(self, templates: list[Template]) -> None:
        """Keep the entries and pictures this build used (so the file does not grow forever)."""
        known = decoded_arts()
        arts = {t.art_sha256: known[t.art_sha256] for t in templates if t.art_sha256 in known}
        if self.used == self.entries and arts == self.arts:
            return
        data = {"schema": SCHEMA, "plans": self.used, "arts": arts}
        write_atomically(self.path, json.dumps(data, sort_keys=True).encode())
