"""The HTML of a meme in a page: a <figure> from a Jinja2 template, escaped by Jinja2."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import jinja2

from ..pipeline import PlannedMeme


@dataclass(frozen=True)
class Figure:
    """What a page needs to show one rendered meme, and what its declaration said.

    Plain data, so that a build without the MkDocs plugin (Zensical) can read it from a file.
    """

    id: str
    template: str
    captions: tuple[str, ...]
    alt: str
    caption: str | None
    width: int  # as shown: the declared width, or the picture's
    height: int
    uri: str  # the image's path from the site's root, such as assets/memes/post/x-1a2b.webp

    @classmethod
    def of(cls, meme: PlannedMeme, uri: str) -> Figure:
        width = meme.spec.width or meme.width
        spec = meme.spec
        return cls(
            id=spec.id,
            template=spec.template,
            captions=spec.captions,
            alt=spec.alt,
            caption=spec.caption,
            width=width,
            height=round(meme.height * width / meme.width),
            uri=uri,
        )

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Figure:
        return cls(**{**data, "captions": tuple(data["captions"])})


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """The package's Jinja2 templates, every value escaped (also used by the slide decks)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("generator.site", "html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def figure_html(figure: Figure, src: str, lazy: bool) -> str:
    """A <figure> whose size attributes let the browser reserve space before the image loads."""
    return (
        template_environment()
        .get_template("figure.html.j2")
        .render(
            id=figure.id,
            src=src,
            alt=figure.alt,
            width=figure.width,
            height=figure.height,
            lazy=lazy,
            caption=figure.caption,
        )
    )
