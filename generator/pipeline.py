"""From declarations to files: plan every meme first, then render only what the cache lacks.

Planning (template look-up, caption fitting, hashing) finds every mistake before anything is
written, so a bad post leaves no half-built output. Rendering runs in threads: Pillow releases
the GIL while it draws text and encodes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from . import RENDERER_VERSION
from .art import output_size
from .declarations import MemeSpec, parse_post_gathering
from .errors import Location, MemeError, MemeErrors, excerpt
from .files import write_atomically
from .fitting import CaptionTooLong, FittedCaption, crossings, fit_captions, prepare
from .fonts import FONT_FILES, layout_versions, raqm_available, source_path
from .plans import PlanStore, layout_from_json, layout_to_json, plan_key
from .render import Encoding, draw, encode
from .shaping import missing_characters, needs_shaping, visible
from .templates import Template, TemplateLibrary


@dataclass(frozen=True)
class PlannedMeme:
    """A meme ready to render: its spec, its layout, and the hash of everything that shapes it."""

    spec: MemeSpec
    template: Template
    captions: tuple[FittedCaption, ...]
    encoding: Encoding
    digest: str
    width: int
    height: int

    @property
    def file_name(self) -> str:
        return f"{self.spec.id}-{self.digest[:16]}{self.encoding.suffix}"


@dataclass
class RenderReport:
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # found in the cache, failed the check
    seconds: float = 0.0
    render_seconds: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=32)
def _file_sha256(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha256_of(path: Path) -> str:
    stat = path.stat()
    return _file_sha256(path, stat.st_mtime_ns, stat.st_size)


def meme_digest(template: Template, captions: tuple[FittedCaption, ...], encoding: Encoding) -> str:
    """Hash of every input that shapes the pixels or bytes (alt text and width do not): the
    fonts each caption is set in, and the versions of the engines that lay text out."""
    fonts = sorted(
        {piece.source for caption in captions for line in caption.lines for piece in line.pieces}
        | {FONT_FILES[box.font] for box in template.boxes},
        key=lambda source: (source.package, source.file),
    )
    inputs = {
        "renderer": RENDERER_VERSION,
        "template": template.name,
        "boxes": [asdict(box) for box in template.boxes],
        "art": template.art_sha256,
        "fonts": {f"{f.package}/{f.file}": _sha256_of(source_path(f)) for f in fonts},
        "layout": layout_versions(),
        "captions": [caption.text for caption in captions],
        "encoding": asdict(encoding),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _character(char: str) -> str:
    """A character as an error shows it: itself when printable, its code and name always."""
    shown = f"'{char}' " if char.isprintable() else ""
    return f"{shown}(U+{ord(char):04X} {unicodedata.name(char, 'a control character')})"


def _check_text(spec: MemeSpec, template: Template) -> None:
    """Every caption can be drawn here: each character has a font, and text that needs
    shaping has raqm. MemeError names the post, the meme, the caption and the characters."""
    for index, (text, box) in enumerate(zip(spec.captions, template.boxes, strict=False)):
        line = spec.field_lines.get(f"captions[{index}]") or spec.where("captions").line
        where = Location(spec.source, line, "captions")
        if not visible(text):
            raise MemeError(
                where,
                f"meme '{spec.id}', caption {index + 1} {excerpt(text)} has nothing to see:"
                " only spaces, zero-width characters or marks",
                "write the caption in words",
            )
        missing = missing_characters(box.font, prepare(text, box))
        if missing:
            named = ", ".join(_character(c) for c in missing[:5])
            raise MemeError(
                where,
                f"meme '{spec.id}', caption {index + 1} {excerpt(text)}: no font here has"
                f" {named}{' and more' if len(missing) > 5 else ''}",
                "write it in words; the fonts cover Latin, Greek, Cyrillic, Hebrew, Arabic,"
                " Japanese, Chinese and Korean",
            )
        if needs_shaping(text) and not raqm_available():
            raise MemeError(
                where,
                f"meme '{spec.id}', caption {index + 1} {excerpt(text)} needs text shaping"
                " (right-to-left or joined script), and this Pillow has no raqm layout",
                "install FriBiDi (Debian: apt-get install libfribidi0; macOS: brew install"
                " fribidi), which Pillow's raqm loads",
            )


def _check_clear(
    spec: MemeSpec, template: Template, fitted: list[FittedCaption], size: tuple[int, int]
) -> None:
    """A caption may fill its box but never cover the art's subject (a keep-clear region)."""
    crossed = crossings(fitted, template.keep_clear, size)
    if crossed:
        index, region = crossed[0]
        line = spec.field_lines.get(f"captions[{index}]") or spec.where("captions").line
        raise MemeError(
            Location(spec.source, line, "captions"),
            f"meme '{spec.id}', caption {index + 1} {excerpt(spec.captions[index])} covers"
            f" '{region}' of template '{template.name}', which captions keep clear of"
            f" (laid out at {fitted[index].size} px on {len(fitted[index].lines)} line(s))",
            "shorten the caption so that it takes fewer lines, or pick another template",
        )


def plan_meme(
    spec: MemeSpec,
    library: TemplateLibrary,
    encoding: Encoding,
    plans: PlanStore | None = None,
) -> PlannedMeme:
    """Look up the template and fit every caption; MemeError names the post, meme and field.

    With `plans`, a layout planned before from exactly the same inputs is reused."""
    if any(mark in spec.template for mark in ("/", "\\", "..")):
        raise MemeError(
            spec.where("template"),
            f"meme '{spec.id}': template {excerpt(spec.template)} is a path, which may leave"
            " the project",
            f"name a template instead: {', '.join(library.names())}",
        )
    try:
        template = library.get(spec.template)
    except KeyError:
        names = library.names()
        alike = [n for n in names if n == spec.template.lower().replace("_", "-").strip()]
        raise MemeError(
            spec.where("template"),
            f"meme '{spec.id}': unknown template {excerpt(spec.template)}",
            f"did you mean '{alike[0]}'? Template names are lowercase"
            if alike
            else f"known templates: {', '.join(names) or 'none (check the templates folder)'}",
        ) from None
    count, needed, total = len(spec.captions), template.required_boxes, len(template.boxes)
    if not needed <= count <= total:
        expected = str(total) if needed == total else f"{needed} to {total}"
        raise MemeError(
            spec.where("captions"),
            f"meme '{spec.id}': template '{template.name}' takes {expected} captions, got {count}",
            f"one caption a box, in this order: {', '.join(template.box_names)}",
        )
    size = output_size(template.width, template.height)
    key = plan_key(template, spec.captions, encoding) if plans is not None else ""
    entry = plans.get(key) if plans is not None else None
    if entry is not None:
        try:
            fitted = layout_from_json(entry["captions"], template)  # checked clear when kept
            plans.put(key, entry)
            return PlannedMeme(spec, template, fitted, encoding, str(entry["digest"]), *size)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged entry: plan afresh
    _check_text(spec, template)
    try:
        fitted = fit_captions(list(spec.captions), list(template.boxes[:count]), size)
    except CaptionTooLong as error:
        raise MemeError(
            spec.where("captions"),
            f"meme '{spec.id}', caption {error.index + 1}"
            f" {excerpt(spec.captions[error.index])} {error}",
            "shorten the caption, or pick a template with a larger box",
        ) from None
    _check_clear(spec, template, fitted, size)
    digest = meme_digest(template, tuple(fitted), encoding)
    if plans is not None:
        plans.put(key, {"digest": digest, "captions": layout_to_json(tuple(fitted))})
    return PlannedMeme(spec, template, tuple(fitted), encoding, digest, *size)


def plan_posts(
    posts: Iterable[tuple[str, str]],
    library: TemplateLibrary,
    encoding: Encoding,
    plans: PlanStore | None = None,
    on_planned: Callable[[PlannedMeme], None] | None = None,
) -> dict[str, list[PlannedMeme]]:
    """Plan the memes of many (source, markdown) posts; every mistake is gathered and raised."""
    planned: dict[str, list[PlannedMeme]] = {}
    errors: list[MemeError] = []
    for source, markdown in posts:
        specs, broken = parse_post_gathering(markdown, source)
        errors += broken  # every broken block of the post, and the others planned: one build
        for spec in specs:
            try:
                meme = plan_meme(spec, library, encoding, plans)
                planned.setdefault(source, []).append(meme)
                if on_planned is not None and not errors:
                    on_planned(meme)
            except MemeError as error:
                if str(error) not in map(str, errors):  # a broken template: say it once
                    errors.append(error)
    if errors:
        raise MemeErrors(errors)
    return planned


def render_bytes(meme: PlannedMeme) -> bytes:
    image = draw(meme.template.image_path, meme.template.art_sha256, list(meme.captions))
    return encode(image, meme.encoding)


class MemeCache:
    """Rendered memes on disk, named by the hash of their inputs, each with the SHA-256 of
    its bytes beside it: a name says the file is up to date, the digest that it is whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, meme: PlannedMeme) -> Path:
        return self.folder / meme.file_name

    def digest_path(self, meme: PlannedMeme) -> Path:
        return self.folder / f"{meme.file_name}.sha256"

    def intact(self, meme: PlannedMeme) -> bool:
        """Whether the cached file is there and has exactly the bytes that were written."""
        path = self.path(meme)
        try:
            expected = self.digest_path(meme).read_text().strip()
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
            return False
        return _file_sha256(path, status.st_mtime_ns, status.st_size) == expected

    def _write(self, meme: PlannedMeme, data: bytes) -> None:
        write_atomically(self.path(meme), data)
        digest = hashlib.sha256(data).hexdigest()
        write_atomically(self.digest_path(meme), f"{digest}\n".encode())

    def ensure(
        self,
        memes: list[PlannedMeme],
        workers: int | None = None,
        progress: Callable[[str], None] | None = None,
        drawn: Drawing | None = None,
    ) -> RenderReport:
        """Render the memes the cache lacks, in parallel; report what was rendered or reused.
        What `drawn` already drew while the site was planned is written, not drawn again."""
        started = time.perf_counter()
        report = RenderReport()
        missing: dict[str, PlannedMeme] = {}
        for meme in memes:
            if self.intact(meme):
                report.reused.append(meme.file_name)
            else:
                # A file without its digest comes from before digests were kept: not damage.
                known = self.path(meme).exists() and self.digest_path(meme).exists()
                if known and meme.file_name not in report.damaged:
                    report.damaged.append(meme.file_name)
                missing.setdefault(meme.file_name, meme)
        if missing and progress:
            damaged = f", {len(report.damaged)} damaged in the cache" if report.damaged else ""
            progress(
                f"rendering {len(missing)} meme(s){damaged}, {len(report.reused)} from the cache"
            )

        def render_one(meme: PlannedMeme) -> tuple[str, float]:
            begun = time.perf_counter()
            early = drawn.result(meme) if drawn is not None else None
            data, seconds = early or (render_bytes(meme), None)
            self._write(meme, data)
            return meme.file_name, seconds if seconds is not None else time.perf_counter() - begun

        workers = workers or min(len(missing), os.cpu_count() or 1) or 1
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for name, seconds in pool.map(render_one, missing.values()):
                report.rendered.append(name)
                report.render_seconds[name] = seconds
        report.seconds = time.perf_counter() - started
        return report


def _timed_render(meme: PlannedMeme) -> tuple[bytes, float]:
    begun = time.perf_counter()
    data = render_bytes(meme)
    return data, time.perf_counter() - begun


class Drawing:
    """Memes drawn and encoded while the rest of the site is still being planned.

    Planning is Python and drawing mostly C that lets go of the GIL, so on two cores the two
    overlap. The bytes stay in memory: only `MemeCache.ensure`, once every meme planned
    cleanly, writes them; `cancel` drops them when planning fails, so a mistake still leaves
    nothing behind.
    """

    def __init__(self, cache: MemeCache, workers: int | None = None) -> None:
        self.cache = cache
        # Planning keeps one core busy; drawing takes the others (at least one).
        self.pool = ThreadPoolExecutor(max_workers=workers or max(1, (os.cpu_count() or 1) - 1))
        self.jobs: dict[str, Future[tuple[bytes, float]]] = {}

    def __call__(self, meme: PlannedMeme) -> None:
        """Start drawing `meme` unless the cache has it (called as each meme is planned)."""
        if meme.file_name not in self.jobs and not self.cache.intact(meme):
            self.jobs[meme.file_name] = self.pool.submit(_timed_render, meme)

    def result(self, meme: PlannedMeme) -> tuple[bytes, float] | None:
        """The bytes drawn for `meme`; None when its drawing had not started (it is called off,
        and the caller draws it: after planning, every core may draw)."""
        job = self.jobs.get(meme.file_name)
        if job is None or job.cancel():
            return None
        return job.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def cancel(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.jobs.clear()
