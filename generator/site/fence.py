"""The `meme` fence of pymdownx.superfences: wherever Markdown nests a meme, its figure goes.

Both builders call `format_meme` for every ```meme block, in an admonition, a list item or a
content tab as much as at the top of a page. Memes are planned and rendered before either
builder writes anything; the fence only prints what was planned:
- MkDocs: the `memes` plugin shares its placements and the page being rendered (`activate`);
- Zensical, which runs no MkDocs plugins: `python -m generator.site.zensical` writes the
  placements to a file before the build, and the fence reads the page from Zensical's own
  rendering context.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from pymdownx.superfences import SuperFencesException

from ..declarations import Block, parse_block
from ..errors import MemeError
from .fences import loud
from .figure import Figure, figure_html

PLACEMENTS_FILE = "placements.json"
PLACEMENTS_ENV = "MEMES_PLACEMENTS"  # set by generator.site.zensical for the build it runs
FENCE_FORMAT = "generator.site.fence.format_meme"


class MemeFenceError(SuperFencesException):
    """A fence that does not match what was planned: stops the build (others fall back to code)."""


@dataclass
class Placements:
    """Figures by page (path under docs/), in page order, and which ones a build printed."""

    pages: dict[str, list[Figure]]
    placed: dict[str, set[str]] = field(default_factory=dict)
    # Bodies of meme blocks inside HTML comments, by page: superfences hands them to the fence
    # all the same, and what it prints there is hidden; they were not planned, nor published.
    hidden: dict[str, list[str]] = field(default_factory=dict)

    def is_hidden(self, page: str, src: str) -> bool:
        return " ".join(src.split()) in self.hidden.get(page, [])

    def figure(self, page: str, meme_id: str) -> tuple[int, Figure] | None:
        for index, figure in enumerate(self.pages.get(page, [])):
            if figure.id == meme_id:
                return index, figure
        return None

    def missing(self, page: str) -> list[str]:
        """Planned memes of `page` that no fence printed (Markdown read them otherwise)."""
        done = self.placed.get(page, set())
        return [figure.id for figure in self.pages.get(page, []) if figure.id not in done]

    def to_json(self) -> str:
        pages = {page: [f.as_json() for f in figures] for page, figures in self.pages.items()}
        return json.dumps({"pages": pages, "hidden": self.hidden}, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Placements:
        data = json.loads(text)
        pages = {page: list(map(Figure.from_json, f)) for page, f in data["pages"].items()}
        return cls(pages, hidden=data.get("hidden", {}))


@dataclass
class _Active:
    """What MkDocs' plugin shares: its placements and the page being rendered (src_uri, url)."""

    placements: Placements
    page: tuple[str, str] | None = None
    problems: list[str] = field(default_factory=list)


_active: _Active | None = None
_loaded: dict[Path, tuple[int, Placements]] = {}


def activate(placements: Placements) -> None:
    global _active
    _active = _Active(placements)


def set_page(src_uri: str | None, url: str = "") -> list[str]:
    """Start (or end, with None) a page under MkDocs; the problems of the page that ended."""
    if _active is None:
        return []
    problems, _active.problems = _active.problems, []
    _active.page = (src_uri, url) if src_uri is not None else None
    return problems


def relative_url(target: str, page_url: str) -> str:
    """`target` (from the site's root) as seen from a page at `page_url` (both without '/')."""
    base = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    return posixpath.relpath(target, base.rstrip("/") or ".")


def _zensical_page(md) -> tuple[str, str] | None:
    """The page Zensical renders (it registers a `rendering_context`): its source and the
    folder its relative URLs are resolved from.

    Zensical resolves relative URLs in a page's HTML from the Markdown file's folder (as
    MkDocs does for Markdown links only), so links and images are addressed from there."""
    if md is None or "rendering_context" not in md.preprocessors:
        return None
    source = md.preprocessors["rendering_context"].page.path.replace("\\", "/")
    folder = posixpath.dirname(source)
    return source, f"{folder}/" if folder else ""


def page_location(md) -> tuple[str, str] | None:
    """The page being rendered, under either builder: (source under docs/, its URL as the
    page's relative links are resolved from); None outside a build."""
    zensical = _zensical_page(md)
    if zensical is not None:
        return zensical
    if _active is not None and _active.page is not None:
        return _active.page
    return None


def _zensical_context(md) -> tuple[str, str, Placements] | None:
    """The page and placements when Zensical renders."""
    page = _zensical_page(md)
    if page is None:
        return None
    named = os.environ.get(PLACEMENTS_ENV)
    if not named:
        raise MemeFenceError(
            "memes need rendering before Zensical builds: run `make site BUILDER=zensical`"
            " (python -m generator.site.zensical), not `zensical build` alone"
        )
    path = Path(named)
    stamp = path.stat().st_mtime_ns
    if path not in _loaded or _loaded[path][0] != stamp:
        _loaded[path] = (stamp, Placements.from_json(path.read_text(encoding="utf-8")))
    return page[0], page[1], _loaded[path][1]


@loud("meme")
def format_meme(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' custom-fence formatter: the planned <figure> for this declaration."""
    zensical = _zensical_context(md)
    if zensical is not None:
        page, url, placements = zensical
    elif _active is not None and _active.page is not None:
        (page, url), placements = _active.page, _active.placements
    else:
        raise MemeFenceError("a meme fence was rendered outside a build; memes need the plugin")
    try:
        spec = parse_block(Block(1, 1, src), page)
        found = placements.figure(page, spec.id)
        if found is None:
            raise MemeFenceError(f"{page}: meme '{spec.id}' was not planned before the build")
        index, figure = found
        declared = (spec.template, spec.captions, spec.alt, spec.caption)
        if declared != (figure.template, figure.captions, figure.alt, figure.caption):
            raise MemeFenceError(f"{page}: meme '{spec.id}' differs from what was planned")
    except (MemeError, MemeFenceError) as error:
        if placements.is_hidden(page, src):
            return ""  # inside an HTML comment: Markdown shows none of it, nothing was planned
        if zensical is None and _active is not None:  # MkDocs: the plugin stops the build
            _active.problems.append(str(error))
            return ""
        raise MemeFenceError(str(error)) from None
    placements.placed.setdefault(page, set()).add(spec.id)
    return figure_html(figure, relative_url(figure.uri, url), lazy=index > 0)
