"""Slides from the posts: one deck per part, one slide per meme, notes from the text around
it, every value escaped. (The decks in a browser, keyboard and print: test_browser.py.)"""

from __future__ import annotations

import re

import pytest
from support.helpers import build_site
from support.paths import POSTS, ROOT

from generator.site.figure import Figure
from generator.site.slides import build_deck, deck_html, deck_uri, plain, section_notes

POST = """---
title: A post
---

# A post

## First section

Some **bold** text with `code` and a [link](https://example.org/).

```meme
id: one
```

After the meme, still the first section.

## Second section

Text of the second section.

```meme
id: two
```
"""


def figure(meme_id: str, caption: str | None = "A caption") -> Figure:
    return Figure(meme_id, "t", ("top", "bottom"), f"alt of {meme_id}", caption, 1200, 800,
                  f"assets/memes/series/post/{meme_id}-0123.webp")  # fmt: skip


def spans(text: str) -> list[tuple[int, int]]:
    lines = text.splitlines()
    opens = [i + 1 for i, line in enumerate(lines) if line.startswith("```meme")]
    return [(start, next(i + 1 for i in range(start, len(lines)) if lines[i] == "```"))
            for start in opens]  # fmt: skip


def test_notes_are_the_plain_text_of_the_meme_s_section():
    lines = POST.splitlines()
    (first, first_end), (second, second_end) = spans(POST)
    notes = section_notes(lines, first, first_end)
    assert notes == (
        "Some bold text with code and a link.\n\nAfter the meme, still the first section."
    )
    assert section_notes(lines, second, second_end) == "Text of the second section."


def test_plain_undoes_markdown_marks():
    assert plain("- **one**\n- [two](x)\n\n1. `three`") == "- one - two\n\n- three"


def test_a_deck_has_a_slide_per_meme_with_paths_from_its_own_folder():
    deck = build_deck("series/post.md", POST, "A post", 3, "What it is", [figure("one"),
                      figure("two", None)], "series/post/", spans(POST))  # fmt: skip
    assert deck_uri("series/post.md") == "slides/series/post/index.html"
    assert [s.image for s in deck.slides] == [
        "../../../assets/memes/series/post/one-0123.webp",
        "../../../assets/memes/series/post/two-0123.webp",
    ]
    assert deck.slides[1].caption == "top / bottom"  # no caption: the meme's own words
    html = deck_html(deck, "Site")
    assert html.count('class="slide"') == 2 and html.count('class="slide slide--title"') == 1
    assert 'href="../../../series/post/"' in html and "../../../assets/slides.js" in html


def test_every_value_in_a_deck_is_escaped():
    hostile = '"><script>alert(1)</script>'
    memes = [figure("one", hostile), figure("two")]
    text = POST.replace("Some", hostile)
    page, url = "series/post.md", "series/post/"
    deck = build_deck(page, text, hostile, 1, hostile, memes, url, spans(POST))
    html = deck_html(deck, hostile)
    assert "<script>alert(1)" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # title, caption, notes...


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("slides")
    build_site(ROOT, root / "site", root / "cache")
    return root / "site"


def test_the_site_has_a_deck_per_part_with_a_slide_per_meme(built_site):
    for post in POSTS:
        memes = post.read_text().count("```meme")
        deck = (built_site / deck_uri(f"series/{post.name}")).read_text()
        assert len(re.findall(r'<section class="slide"', deck)) == memes, post.name
        notes = re.findall(r'<aside class="slide__notes"[^>]*>(.*?)</aside>', deck, re.S)
        assert len(notes) == memes + 1 and all("<p>" in n for n in notes[1:]), post.name
        page = (built_site / "series" / post.stem / "index.html").read_text()
        assert f'href="../../slides/series/{post.stem}/"' in page  # linked from its post


def test_the_keys_slide_says_what_the_lab_found(built_site):
    """Its notes are the prose next to the meme: pull moves the key to git write access."""
    deck = (built_site / deck_uri("series/part-4-push-or-pull.md")).read_text()
    notes = re.findall(r'<aside class="slide__notes"[^>]*>(.*?)</aside>', deck, re.S)
    keys = next(n for n in notes if "cluster admin to git write access" in n)
    assert "CI system needs no credential for any cluster" in keys
    bandwidth = [n for n in notes if "requests a minute" in n]
    assert bandwidth, "the polling meme's notes quote the polling load"
