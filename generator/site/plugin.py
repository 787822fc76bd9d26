"""The thin MkDocs adapter: plan memes before the build, add their files, swap declarations.

All the work is in the plain library (`generator.pipeline`) and `generator.site.series`; this
file only maps MkDocs events onto it, so that the site could move to another generator.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel, get_files

from ..errors import MemeError, MemeErrors
from ..pipeline import Drawing, MemeCache, PlannedMeme, RenderReport
from ..render import Encoding
from . import numbers, results, slides
from .fence import FENCE_FORMAT, Placements, activate, set_page
from .lastgood import LastGood
from .planning import (
    SitePlan,
    font_licences,
    image_uri,
    output_problems,
    placements,
    plan_site,
)
from .series import Position, build_positions
from .seriesindex import long_date

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
        self.hidden: dict[str, list[str]] = {}
        self.positions: dict[str, Position] = {}
        self.last_report = RenderReport()
        self.placements = Placements({})
        self.default_card: tuple[str, str] | None = None
        self.serving = False
        self.dirty = False
        self.drawing: Drawing | None = None
        self.last_good: LastGood | None = None
        self.warnings = _Warnings()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defined so that MkDocs keeps this object (and its caches) across serve rebuilds."""
        self.serving = command == "serve"
        self.dirty = dirty

    def on_config(self, config):
        """Memes are printed by superfences' `meme` fence, wherever Markdown nests them."""
        fences = config.mdx_configs.get("pymdownx.superfences", {}).get("custom_fences", [])
        formats = [f.get("format") for f in fences if f.get("name") == "meme"]
        if "pymdownx.superfences" not in config.markdown_extensions or not any(
            callable(f) and f"{f.__module__}.{f.__name__}" == FENCE_FORMAT for f in formats
        ):
            raise PluginError(
                f"{Path(config.config_file_path).name}: the memes plugin needs the `meme` fence"
                " of pymdownx.superfences (add under markdown_extensions: - pymdownx.superfences:"
                " custom_fences: [{name: meme, class: meme, format:"
                f" !!python/name:{FENCE_FORMAT}}}])"
            )
        inlines = config.mdx_configs.get("pymdownx.inlinehilite", {}).get("custom_inline", [])
        if not any(
            i.get("name") == "lab"
            and callable(i.get("format"))
            and f"{i['format'].__module__}.{i['format'].__name__}" == numbers.FORMAT
            for i in inlines
        ):
            raise PluginError(
                f"{Path(config.config_file_path).name}: pages quote the lab's numbers as"
                " `#!lab ...`, which needs the `lab` inline of pymdownx.inlinehilite (add under"
                " markdown_extensions: - pymdownx.inlinehilite: custom_inline: [{name: lab,"
                f" class: lab-number, format: !!python/name:{numbers.FORMAT}}}])"
            )
        # The `lab-result` fence reads this project's results, whatever the working folder.
        root = Path(config.config_file_path).resolve().parent
        results.configure(Path(config.docs_dir) / "lab" / "results", root / ".cache" / "lab-charts")
        return config

    def _paths(self, config) -> tuple[Path, Path, Path]:
        """The project, templates and cache folders (checked when the config loaded)."""
        root = Path(config.config_file_path).resolve().parent
        templates = (root / self.config.templates_dir).resolve()
        return root, templates, (root / self.config.cache_dir).resolve()

    def on_pre_build(self, *, config) -> None:
        """Plan every meme before MkDocs cleans or writes anything, so mistakes leave no trace.

        The pages are the ones MkDocs will build: its own file list, with `exclude_docs`
        applied, and drafts only when serving (as MkDocs does)."""
        root, templates, cache = self._paths(config)
        included = InclusionLevel.is_in_serve if self.serving else InclusionLevel.is_included
        pages = [f.src_uri for f in get_files(config).documentation_pages(inclusion=included)]
        encoding = Encoding(format=self.config.format, quality=self.config.quality)
        self.drawing = Drawing(MemeCache(cache))
        try:
            plan = plan_site(
                root, Path(config.docs_dir), pages, templates, encoding, cache, self.drawing,
                results=results.results_dir(),
            )  # fmt: skip
            unwritable = output_problems(plan, self.config.output_dir, Path(config.docs_dir),
                                         Path(config.site_dir))  # fmt: skip
            if unwritable:
                raise MemeErrors(unwritable)
        except (MemeError, MemeErrors) as error:
            self.drawing.cancel()
            raise PluginError(str(error)) from None
        self.planned = plan.planned
        self.hidden = plan.hidden
        self.positions = build_positions(plan.entries)
        # Planned cleanly: MkDocs empties the site next, so the good one waits aside.
        if not self.dirty:
            self.last_good = LastGood(Path(config.site_dir))
            self.last_good.set_aside()
            self.warnings.start()

    def on_post_build(self, *, config) -> None:
        """Every page is written; a strict build with warnings still fails after this."""
        if self.last_good is not None and not (config.strict and self.warnings.stop()):
            self.last_good.discard()
            self.last_good = None

    def on_build_error(self, *, error: Exception) -> None:
        """What the failed build wrote goes, and the last good site comes back."""
        self.warnings.stop()
        if self.last_good is not None:
            self.last_good.restore()
            self.last_good = None

    def on_files(self, files: Files, *, config) -> Files:
        _, _, cache_dir = self._paths(config)
        memes = [meme for memes in self.planned.values() for meme in memes]
        cache = MemeCache(cache_dir)
        try:
            report = self.last_report = cache.ensure(memes, progress=log.info, drawn=self.drawing)
        finally:
            self.drawing.close()
        for name in report.damaged:
            log.info(  # repaired, so not a warning (that fails a strict build)
                f"memes: {name} in the cache was damaged (its digest did not match); rendered again"
            )
        log.info(
            f"memes: {len(report.rendered)} rendered, {len(report.reused)} from the cache"
            f" ({report.seconds:.2f} s)"
        )
        self.default_card = None
        for page, page_memes in self.planned.items():
            for meme in page_memes:
                uri = image_uri(self.config.output_dir, page, meme)
                if files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, abs_src_path=str(cache.path(meme))))
        self.placements = placements(
            SitePlan(self.planned, [], self.hidden), self.config.output_dir
        )
        activate(self.placements)
        if memes:
            # Pages without memes share the series' first meme as their card image.
            first = min(self.planned, key=lambda p: (p not in self.positions, self._part(p), p))
            figure = self.placements.pages[first][0]
            self.default_card = (figure.uri, figure.alt)
            for name, path in font_licences(memes):
                uri = f"{self.config.output_dir}/{name}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        urls = {f.src_uri: f.url for f in files.documentation_pages()}
        entries = [position.entry for position in self.positions.values()]
        decks = slides.site_decks(entries, self.placements.pages, self.planned,
                                  Path(config.docs_dir), urls, config.site_name)  # fmt: skip
        for page, html in decks.items():
            files.append(File.generated(config, slides.deck_uri(page), content=html))
        return files

    def on_page_markdown(self, markdown: str, *, page, config, files: Files) -> str:
        """The page's memes are printed by the `meme` fence while MkDocs renders it."""
        set_page(page.file.src_uri, page.url)
        if "social_image" in page.meta:  # the page's own card wins over its first meme
            self._own_card(page, config, files)
            return markdown
        figures = self.placements.pages.get(page.file.src_uri)
        if figures and config.site_url:  # a card's image must be absolute: no site_url, no card
            page.meta["social_image"] = self._absolute(config, figures[0].uri)
            page.meta["social_image_alt"] = figures[0].alt
        return markdown

    def _own_card(self, page, config, files: Files) -> None:
        """A card image the page names in its front matter: a URL, or a file of the site (from
        its root), made absolute; without site_url a file cannot be, so there is no card."""
        value = page.meta["social_image"]
        where = f"{page.file.src_uri}: front matter social_image"
        if not isinstance(value, str) or not value.strip():
            raise PluginError(f"{where} must be a URL or a file of the site, not {value!r}")
        if "://" in value:
            page.meta["social_image"] = value
        elif files.get_file_from_path(value.lstrip("/")) is None:
            raise PluginError(
                f"{where} names {value!r}, which is not a file of the site; give its path"
                f" from {config.docs_dir} (e.g. assets/card.png) or a full URL"
            )
        elif config.site_url:
            page.meta["social_image"] = self._absolute(config, value.lstrip("/"))
        else:
            del page.meta["social_image"]
        page.meta.setdefault("social_image_alt", page.title or "")

    def on_page_content(self, html: str, *, page, config, files: Files) -> str:
        """Every planned meme of the page was printed, each just as it was planned."""
        problems = set_page(None)
        missing = self.placements.missing(page.file.src_uri)
        if missing:
            lines = {m.spec.id: m.spec.line for m in self.planned[page.file.src_uri]}
            shown = self.planned[page.file.src_uri][0].spec.source
            problems += [
                f"{shown}:{lines[meme_id]}: meme '{meme_id}' was found but Markdown did not read"
                " it as a fence (is it inside an indented code block, or indented differently"
                " from its container?); indent the fence as the text around it"
                for meme_id in missing
            ]
        if problems:
            raise PluginError("\n".join(problems))
        return html

    def _part(self, page: str) -> int:
        position = self.positions.get(page)
        return position.entry.part if position else 0

    @staticmethod
    def _absolute(config, url: str) -> str:
        return urljoin(config.site_url, url)

    def on_page_context(self, context, *, page, config, nav):
        position = self.positions.get(page.file.src_uri)
        if position is not None:
            urls = {item.file.src_uri: item.url for item in nav.pages}
            context["series"] = {
                "name": config.extra.get("series_title", position.entry.series),
                "part": position.entry.part,
                "total": position.total,
                "date": long_date(position.entry.date),
                "reviewed": long_date(position.entry.reviewed),
                "previous": _link(position.previous, urls),
                "next": _link(position.next, urls),
                "parts": [_link(entry, urls) for entry in position.entries],
                "slides": slides.deck_uri(page.file.src_uri).removesuffix("index.html")
                if self.placements.pages.get(page.file.src_uri)
                else "",
            }
        if "social_image" not in page.meta and self.default_card and config.site_url:
            uri, alt = self.default_card
            page.meta["social_image"] = self._absolute(config, uri)
            page.meta["social_image_alt"] = alt
        return context

    def on_serve(self, server, *, config, builder):
        """Re-build when a template's config or art changes, not only the docs."""
        _, templates, _ = self._paths(config)
        server.watch(str(templates))
        return server


class _Warnings(logging.Handler):
    """Counts MkDocs' warnings while pages are written: a strict build will abort on them
    after on_post_build, and then its site must not replace the last good one."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1

    def start(self) -> None:
        self.count = 0
        logging.getLogger("mkdocs").addHandler(self)

    def stop(self) -> int:
        logging.getLogger("mkdocs").removeHandler(self)
        return self.count


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
