"""Captions that readers can read: clear of the art's subject, and large enough on a phone.

A template declares the parts of its art no caption may cover (`keep_clear`); the engine
refuses a layout whose text enters one. And every caption of the series keeps a cap height
of at least 9 px when its meme is shown at a phone's content width of 358 px.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from support.paths import ROOT, TEMPLATES

from generator.errors import MemeError, MemeErrors
from generator.fitting import crossings, ink_rects
from generator.fonts import FONT_FILES, load
from generator.pipeline import plan_posts
from generator.render import Encoding
from generator.templates import TemplateLibrary

PHONE_WIDTH = 358  # CSS px of content on a 390 px phone, Material's padding taken off
MIN_CAP_HEIGHT = 9  # px


@pytest.fixture(scope="module")
def series():
    pages = sorted((ROOT / "docs").rglob("*.md"))
    posts = [(str(p.relative_to(ROOT)), p.read_text()) for p in pages]
    return plan_posts(posts, TemplateLibrary(TEMPLATES), Encoding())


def cap_height(font: str, size: int) -> int:
    _, top, _, bottom = load(FONT_FILES[font], size, False).getbbox("H")
    return bottom - top


def test_every_caption_is_legible_on_a_phone(series):
    small = []
    for page, memes in series.items():
        for meme in memes:
            scale = PHONE_WIDTH / meme.width  # a meme never shows wider than the column
            for index, caption in enumerate(meme.captions, start=1):
                shown = cap_height(caption.box.font, caption.size) * scale
                if shown < MIN_CAP_HEIGHT:
                    small.append(f"{page}: {meme.spec.id} caption {index}: {shown:.1f} px")
    assert not small, "caption cap heights under 9 px at 358 px wide:\n" + "\n".join(small)


def test_no_caption_covers_what_its_template_keeps_clear(series):
    for memes in series.values():
        for meme in memes:
            assert crossings(list(meme.captions), meme.template.keep_clear,
                             (meme.width, meme.height)) == []  # fmt: skip


def test_no_template_appears_more_than_twice_in_the_series(series):
    used = Counter(m.template.name for memes in series.values() for m in memes)
    assert sum(used.values()) >= 16
    assert max(used.values()) <= 2, used


def test_a_caption_crossing_a_keep_clear_region_is_refused(make_template, tmp_path):
    # The box reaches down over the "face"; a short caption stays above it, a long one
    # takes more lines and would cover it.
    config = (
        "image: art.png\n"
        "boxes:\n  - {name: top, x: 0.05, y: 0.02, w: 0.9, h: 0.6, valign: top, max_lines: 3,"
        " min_size: 60, max_size: 60}\n"
        "keep_clear:\n  - {name: face, x: 0.3, y: 0.25, w: 0.4, h: 0.3}\n"
    )
    folder = make_template("guarded", [], config=config)
    library = TemplateLibrary(folder.parent)
    post = "```meme\nid: m\ntemplate: guarded\ncaptions:\n  - {}\nalt: A test meme with a face in it, and a caption above.\n```\n"  # noqa: E501
    short = plan_posts([("post.md", post.format("Short"))], library, Encoding())
    [meme] = short["post.md"]
    assert ink_rects(meme.captions[0])[0][3] < 0.25 * meme.height
    long_caption = "A caption long enough to need three lines of text at this size, surely"
    with pytest.raises(MemeErrors) as caught:
        plan_posts([("post.md", post.format(long_caption))], library, Encoding())
    [error] = caught.value.errors
    assert isinstance(error, MemeError)
    assert str(error).startswith("post.md:5: field 'captions': meme 'm', caption 1")
    assert "covers 'face' of template 'guarded'" in str(error)
    assert "shorten the caption" in str(error)


def test_the_art_is_the_project_s_own_drawing():
    """Every template's picture is drawn by img/make_art.py (no borrowed image)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_art", ROOT / "img" / "make_art.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.DRAWINGS) == {p.name for p in Path(TEMPLATES).iterdir() if p.is_dir()}
