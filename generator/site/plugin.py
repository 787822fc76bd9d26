"""The thin MkDocs adapter: plan memes before the build, add their files, swap declarations.

All the work is in the plain library (`generator.pipeline`) and `generator.site.series`; this file only
maps MkDocs events onto it, so that the site could move to another generator.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data

from ..declarations import replace_blocks
from ..errors import MemeError, MemeErrors
from .figure import figure_html
from ..fonts import licence_path
from ..pipeline import MemeCache, PlannedMeme, RenderReport, plan_posts
from ..render import Encoding
from .series import Position, build_positions, check_front_matter, entry_from_meta
from ..templates import TemplateLibrary

log = logging.getLogger("mkdocs.plugins.memes")


class InsideProject(opt.Type):
    """A folder option that must stay inside the project (the folder of mkdocs.yml)."""

    def __init__(self, default: str) -> None:
        super().__init__(str, default=default)

    def post_validation(self, config, key_name: str) -> None:
        root = Path(config.config_file_path or ".").resolve().parent
        folder = (root / config[key_name]).resolve()
        if not folder.is_relative_to(root) or folder == root:
            raise opt.ValidationError(
                f"'{config[key_name]}' leaves the project; keep it in a folder inside {root.name}/"
            )


class InsideSite(opt.Type):
    """A relative folder inside the built site."""

    def __init__(self, default: str) -> None:
        super().__init__(str, default=default)

    def run_validation(self, value):
        value = super().run_validation(value)
        parts = Path(value).parts
        if Path(value).is_absolute() or ".." in parts or not parts:
            raise opt.ValidationError(
                f"'{value}' must be a folder inside the site, such as assets/memes"
            )
        return value


class Quality(opt.Type):
    def __init__(self) -> None:
        super().__init__(int, default=80)

    def run_validation(self, value):
        value = super().run_validation(value)
        if not 1 <= value <= 100:
            raise opt.ValidationError(f"{value} must be from 1 to 100 (80 is the default)")
        return value


class MemesConfig(Config):
    """Checked when the configuration loads, before MkDocs empties site/."""

    templates_dir = InsideProject(default="img/templates")
    cache_dir = InsideProject(default=".cache/memes")
    output_dir = InsideSite(default="assets/memes")
    format = opt.Choice(("webp", "jpeg"), default="webp")
    quality = Quality()


class MemesPlugin(BasePlugin[MemesConfig]):
    def __init__(self) -> None:
        self.planned: dict[str, list[PlannedMeme]] = {}
        self.positions: dict[str, Position] = {}
        self.last_report = RenderReport()
        self.image_urls: dict[str, str] = {}
        self.default_card: tuple[str, str] | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defined so that MkDocs keeps this object (and its caches) across serve rebuilds."""

    def _paths(self, config) -> tuple[Path, Path, Path]:
        """The project, templates and cache folders (checked when the config loaded)."""
        root = Path(config.config_file_path).resolve().parent
        templates = (root / self.config.templates_dir).resolve()
        return root, templates, (root / self.config.cache_dir).resolve()

    def on_pre_build(self, *, config) -> None:
        """Plan every meme before MkDocs cleans or writes anything, so mistakes leave no trace."""
        root, templates, _ = self._paths(config)
        docs = Path(config.docs_dir)
        posts, entries, sources, unsafe = [], [], {}, []
        try:
            for path in sorted(docs.rglob("*.md")):
                text = path.read_text(encoding="utf-8-sig")
                page = path.relative_to(docs).as_posix()
                shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else page
                sources[shown] = page  # errors name the file from the project's root
                posts.append((shown, text))
                meta = get_data(text)[1]
                unsafe += check_front_matter(shown, meta)
                entry = entry_from_meta(page, meta)
                if entry:
                    entries.append(entry)
            if unsafe:
                raise MemeErrors(unsafe)
            encoding = Encoding(format=self.config.format, quality=self.config.quality)
            library = TemplateLibrary(templates)
            broken = library.problems()
            if broken:
                raise MemeErrors(broken)
            planned = plan_posts(posts, library, encoding)
            self.positions = build_positions(entries)
        except (MemeError, MemeErrors) as error:
            # Name files from the project's root, as authors see them.
            raise PluginError(str(error).replace(f"{root}{os.sep}", "")) from None
        # Keyed by the page's path under docs/, as MkDocs names its files.
        self.planned = {sources[shown]: memes for shown, memes in planned.items()}

    def on_files(self, files: Files, *, config) -> Files:
        _, _, cache_dir = self._paths(config)
        memes = [meme for memes in self.planned.values() for meme in memes]
        cache = MemeCache(cache_dir)
        report = self.last_report = cache.ensure(memes, progress=log.info)
        for name in report.damaged:
            log.info(  # repaired, so not a warning (that fails a strict build)
                f"memes: {name} in the cache was damaged (its digest did not match); rendered again"
            )
        log.info(
            f"memes: {len(report.rendered)} rendered, {len(report.reused)} from the cache"
            f" ({report.seconds:.2f} s)"
        )
        self.image_urls = {}
        self.default_card = None
        for page, page_memes in self.planned.items():
            folder = f"{self.config.output_dir}/{Path(page).with_suffix('').as_posix()}"
            for meme in page_memes:
                uri = f"{folder}/{meme.file_name}"
                if files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, abs_src_path=str(cache.path(meme))))
                self.image_urls[f"{page}#{meme.spec.id}"] = uri
        if memes:
            # Pages without memes share the series' first meme as their card image.
            first = min(self.planned, key=lambda p: (p not in self.positions, self._part(p), p))
            meme = self.planned[first][0]
            self.default_card = (self.image_urls[f"{first}#{meme.spec.id}"], meme.spec.alt)
            licence = f"{self.config.output_dir}/LICENSE-DejaVu-fonts.txt"
            files.append(File.generated(config, licence, abs_src_path=str(licence_path())))
        return files

    def on_page_markdown(self, markdown: str, *, page, config, files: Files) -> str:
        page_memes = {m.spec.id: m for m in self.planned.get(page.file.src_uri, [])}
        if not page_memes:
            return markdown
        order = list(page_memes)

        def html_for(spec) -> str:
            meme = page_memes[spec.id]
            uri = self.image_urls[f"{page.file.src_uri}#{spec.id}"]
            image = files.get_file_from_path(uri)
            src = get_relative_url(image.url, page.url)
            return figure_html(meme, src, lazy=order.index(spec.id) > 0)

        first = files.get_file_from_path(self.image_urls[f"{page.file.src_uri}#{order[0]}"])
        page.meta["social_image"] = self._absolute(config, first.url)
        page.meta["social_image_alt"] = page_memes[order[0]].spec.alt
        try:
            return replace_blocks(markdown, page.file.src_uri, html_for)
        except MemeError as error:
            raise PluginError(str(error)) from None

    def _part(self, page: str) -> int:
        position = self.positions.get(page)
        return position.entry.part if position else 0

    @staticmethod
    def _absolute(config, url: str) -> str:
        return urljoin(config.site_url or "/", url)

    def on_page_context(self, context, *, page, config, nav):
        position = self.positions.get(page.file.src_uri)
        if position is not None:
            urls = {item.file.src_uri: item.url for item in nav.pages}
            context["series"] = {
                "name": config.extra.get("series_title", position.entry.series),
                "part": position.entry.part,
                "total": position.total,
                "date": _long_date(position.entry.date),
                "previous": _link(position.previous, urls),
                "next": _link(position.next, urls),
                "parts": [_link(entry, urls) for entry in position.entries],
            }
        if "social_image" not in page.meta and self.default_card:
            uri, alt = self.default_card
            page.meta["social_image"] = self._absolute(config, uri)
            page.meta["social_image_alt"] = alt
        return context

    def on_serve(self, server, *, config, builder):
        """Re-build when a template's config or art changes, not only the docs."""
        _, templates, _ = self._paths(config)
        server.watch(str(templates))
        return server


def _long_date(date) -> str:
    """'25 July 2021': unambiguous for readers everywhere, unlike 07/25/2021."""
    return f"{date.day} {date:%B %Y}" if date else ""


def _link(entry, urls: dict[str, str]) -> dict | None:
    if entry is None:
        return None
    return {
        "part": entry.part,
        "title": entry.title,
        "url": urls.get(entry.source, ""),
        "date": entry.date,
        "description": entry.description,
    }
