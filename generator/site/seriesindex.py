"""The `series-index` fence of pymdownx.superfences: the series' parts, from their front matter.

    ```series-index
    show: table    # or: list
    ```

The home page lists the parts, the series page gives each one's dates and summary; both read
the posts' own front matter (title, date, reviewed, description) when the site is built, so a
date or a summary is written once, in the post, and agrees everywhere it is shown.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

from mkdocs.utils.meta import get_data

from .fence import page_location
from .fences import loud
from .results import ResultFenceError, fence_yaml, results_dir
from .series import Entry, entry_from_meta

SHOWS = ("table", "list")
SERIES_FOLDER = "series"


def long_date(date) -> str:
    """'25 July 2021': unambiguous for readers everywhere, unlike 07/25/2021."""
    return f"{date.day} {date:%B %Y}" if date else ""


def short_title(title: str) -> str:
    """'Part 4: CI/CD, push or pull?' without its 'Part 4: ' (the table says the part)."""
    return re.sub(r"^Part \d+:\s*", "", title)


def entries(docs: Path) -> list[Entry]:
    """The series' posts under docs/series, in part order."""
    found = []
    for path in sorted((docs / SERIES_FOLDER).glob("*.md")):
        meta = get_data(path.read_text(encoding="utf-8-sig"))[1]
        entry = entry_from_meta(f"{SERIES_FOLDER}/{path.name}", meta)
        if entry is not None:
            found.append(entry)
    return sorted(found, key=lambda e: e.part)


def post_url(entry: Entry, page: str) -> str:
    """The post's address from the page at `page` (its URL, or its folder under Zensical)."""
    target = entry.source.removesuffix(".md") + "/"
    base = page if page.endswith("/") or not page else posixpath.dirname(page)
    return posixpath.relpath(target, base.rstrip("/") or ".") + "/"


def table_html(posts: list[Entry], page: str) -> str:
    rows = "".join(
        f'<tr><td>{e.part}</td><td><a href="{html.escape(post_url(e, page))}">'
        f"{html.escape(short_title(e.title))}</a><br><small>{html.escape(e.description)}</small>"
        f"</td><td>{html.escape(long_date(e.date))}</td><td>{html.escape(long_date(e.reviewed))}"
        "</td></tr>"
        for e in posts
    )
    return (
        '<table class="series-index"><thead><tr><th>Part</th><th>Post</th><th>Published</th>'
        f"<th>Facts reviewed</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def list_html(posts: list[Entry], page: str) -> str:
    items = "".join(
        f'<li><a href="{html.escape(post_url(e, page))}">{html.escape(short_title(e.title))}</a>'
        f" ({html.escape(long_date(e.date))}): {html.escape(e.description)}</li>"
        for e in posts
    )
    return f'<ol class="series-index">{items}</ol>'


@loud("series-index")
def format_series_index(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    spec = fence_yaml(src, "series-index")
    if not isinstance(spec, dict) or set(spec) != {"show"} or spec["show"] not in SHOWS:
        raise ResultFenceError(f"a series-index fence takes `show:` with one of {list(SHOWS)}")
    posts = entries(results_dir().parent.parent)
    if not posts:
        raise ResultFenceError("a series-index fence found no posts under docs/series")
    where = page_location(md)
    page = where[1] if where else ""
    return (table_html if spec["show"] == "table" else list_html)(posts, page)
