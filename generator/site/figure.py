"""The HTML of a meme in a page: a <figure> from a Jinja2 template, escaped by Jinja2."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ..pipeline import PlannedMeme


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("generator.site", "html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def figure_html(meme: PlannedMeme, src: str, lazy: bool) -> str:
    """A <figure> whose size attributes let the browser reserve space before the image loads."""
    width = meme.spec.width or meme.width
    height = round(meme.height * width / meme.width)
    return (
        _environment()
        .get_template("figure.html.j2")
        .render(
            id=meme.spec.id,
            src=src,
            alt=meme.spec.alt,
            width=width,
            height=height,
            lazy=lazy,
            caption=meme.spec.caption,
        )
    )
