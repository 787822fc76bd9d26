"""Caption fitting: text stays inside its box, longer text never grows, wraps are sensible."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from generator.fitting import CaptionTooLong, fit_caption, fit_captions
from generator.pipeline import render_bytes
from generator.render import draw
from generator.templates import TextBox, load_template

SENTENCE = (
    "An agent inside every cluster keeps polling the git repository and applies whatever"
    " changed since the last time it looked"
)


def box(**options) -> TextBox:
    values = {"name": "b", "x": 0.1, "y": 0.1, "w": 0.5, "h": 0.3} | options
    return TextBox(**values)


@pytest.mark.parametrize(
    ("align", "valign", "style", "stroke"),
    [
        ("left", "top", "none", 0.0),
        ("center", "middle", "upper", 0.1),
        ("right", "bottom", "upper", 0.2),
    ],
)
@pytest.mark.parametrize("words", [1, 4, 12, 18])
def test_ink_stays_inside_its_box(make_template, align, valign, style, stroke, words):
    text = " ".join(SENTENCE.split()[:words])
    folder = make_template(
        "plain",
        [
            {
                "name": "only",
                "x": 0.2,
                "y": 0.25,
                "w": 0.45,
                "h": 0.3,
                "align": align,
                "valign": valign,
                "style": style,
                "stroke": stroke,
                "min_size": 20,
            }
        ],
    )
    template = load_template(folder)
    fitted = fit_caption(text, template.boxes[0], (template.width, template.height))
    image = draw(template.image_path, template.art_sha256, [fitted])
    blank = Image.new("RGB", image.size, "#808080")
    ink = ImageChops.difference(image, blank).getbbox()
    assert ink is not None, "nothing was drawn"
    left, top, right, bottom = template.boxes[0].pixels(template.width, template.height)
    assert left <= ink[0] and top <= ink[1] and ink[2] <= right and ink[3] <= bottom, (
        f"ink {ink} leaves box {(left, top, right, bottom)}"
    )


def test_longer_caption_never_gets_a_larger_font():
    words = SENTENCE.split()
    target = box(max_lines=3, min_size=12, max_size=120)
    sizes = [fit_caption(" ".join(words[:n]), target, (1200, 800)).size for n in range(1, 19)]
    assert sizes == sorted(sizes, reverse=True), sizes
    assert sizes[0] > sizes[-1], "the test captions should span several sizes"


def test_short_caption_takes_one_line_at_the_largest_size():
    fitted = fit_caption("Ship it", box(max_size=80), (1200, 800))
    assert [line.text for line in fitted.lines] == ["SHIP IT"]
    assert fitted.size == 80


def test_wrapped_lines_are_balanced():
    fitted = fit_caption(SENTENCE, box(style="none", min_size=12, max_size=200), (1200, 800))
    assert 2 <= len(fitted.lines) <= 3
    lengths = [len(line.text) for line in fitted.lines]
    assert max(lengths) - min(lengths) <= max(lengths) * 0.5, lengths
    assert " ".join(line.text for line in fitted.lines) == SENTENCE


def test_max_lines_is_respected():
    for limit in (1, 2, 3):
        fitted = fit_caption(SENTENCE, box(w=0.9, max_lines=limit, min_size=6), (1200, 800))
        assert len(fitted.lines) <= limit


def test_caption_that_cannot_fit_is_an_error():
    with pytest.raises(CaptionTooLong, match="minimum size of 40 px"):
        fit_caption(SENTENCE * 3, box(min_size=40), (1200, 800))


def test_a_group_shares_the_smallest_size():
    boxes = [box(name="a", group="g", min_size=12), box(name="b", y=0.5, group="g", min_size=12)]
    alone = [
        fit_caption(t, b, (1200, 800)).size for t, b in zip(["Hi", SENTENCE], boxes, strict=False)
    ]
    together = fit_captions(["Hi", SENTENCE], boxes, (1200, 800))
    assert alone[0] > alone[1]
    assert [c.size for c in together] == [alone[1], alone[1]]


def test_rendering_is_byte_for_byte_repeatable(make_template):
    from generator.declarations import MemeSpec
    from generator.pipeline import plan_meme
    from generator.render import Encoding
    from generator.templates import TemplateLibrary

    folder = make_template("plain", [{"name": "only", "x": 0.1, "y": 0.1, "w": 0.8, "h": 0.5}])
    library = TemplateLibrary(folder.parent)
    spec = MemeSpec("post.md", 1, 5, "m", "plain", ("Same input",), "same bytes every time")
    first = render_bytes(plan_meme(spec, library, Encoding()))
    second = render_bytes(plan_meme(spec, library, Encoding()))
    assert first == second
    assert first[:4] == b"RIFF" and first[8:12] == b"WEBP"
