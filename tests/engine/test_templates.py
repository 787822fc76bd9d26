"""Templates: the project's own set loads and covers the posts; bad configs are clear errors."""

from __future__ import annotations

import pytest
from PIL import Image
from support.paths import TEMPLATES

from generator.errors import MemeError
from generator.templates import TemplateLibrary, load_template

NEEDED = {
    "prefer",
    "two-buttons",
    "brain-ladder",
    "labelled-scene",
    "before-after",
    "calm-amid-chaos",
    "classic",
    "everyone-asking",
    "is-this",
    "bell-curve",
    "table-sign",
    "unmasked",
}


def test_project_templates_load_and_cover_the_needs():
    library = TemplateLibrary(TEMPLATES)
    assert set(library.names()) >= NEEDED
    for name in library.names():
        template = library.get(name)
        assert template.width == 1200, f"{name}: art should be drawn at 1200 px wide"
        assert template.description, f"{name}: say what the picture shows"
        assert template.keep_clear, f"{name}: say which parts of the art captions keep clear of"
    assert len(library.get("brain-ladder").boxes) == 4


def test_unknown_template_is_a_key_error():
    with pytest.raises(KeyError):
        TemplateLibrary(TEMPLATES).get("distracted-person")


BOX = "{name: a, x: 0.1, y: 0.1, w: 0.5, h: 0.5}"


@pytest.mark.parametrize(
    ("config", "message", "line"),
    [
        (
            "image: art.png\nboxes:\n  - {name: a, x: 0.7, y: 0.1, w: 0.5, h: 0.2}\n",
            "lies outside its image",
            3,  # the box's own line, not the line of 'boxes:'
        ),
        (
            f"image: art.png\nboxes:\n  - {BOX}\n  - {{name: b, x: 0.7, y: 0.1, w: 0.5, h: 0.2}}\n",
            "box 'b' lies outside its image",
            4,
        ),
        (f"image: ../../secret.png\nboxes:\n  - {BOX}\n", "leaves the template's folder", 1),
        (f"image: missing.png\nboxes:\n  - {BOX}\n", "does not exist", 1),
        (f"image: art.png\ncolour: red\nboxes:\n  - {BOX}\n", "unknown keys", 2),
        (
            "image: art.png\nboxes:\n  - {name: a, x: 0.1, y: 0.1, w: 0.5, h: 0.5, color: red}\n",
            "expected a colour",
            3,
        ),
        (
            "image: art.png\nboxes:\n  - {name: a, x: 0.1, y: 0.1, w: 0.5, h: 0.5, font: comic}\n",
            "font",
            3,
        ),
        ("image: art.png\nboxes: [\n", "not valid YAML", 3),
        (
            f"image: art.png\nboxes:\n  - {BOX}\nkeep_clear:\n"
            "  - {name: face, x: 0.9, y: 0, w: 0.2, h: 0.1}\n",
            "keep-clear region 'face' lies outside its image",
            5,
        ),
        (
            f"image: art.png\nboxes:\n  - {BOX}\nkeep_clear:\n  - {{name: face, x: 0.1}}\n",
            r"keep_clear\[0\] must be a mapping of exactly h, name, w, x, y",
            5,
        ),
        ("image: art.png\n", "needs a list of text 'boxes'", 1),
    ],
)
def test_bad_config_says_file_line_and_what_to_do(make_template, config, message, line):
    folder = make_template("bad", [], config=config)
    with pytest.raises(MemeError, match=message) as caught:
        load_template(folder)
    assert str(caught.value).startswith(f"{folder / 'template.yml'}:{line}")


def test_picture_that_is_not_an_image(make_template):
    folder = make_template("fake", [], config=f"image: art.png\nboxes:\n  - {BOX}\n")
    (folder / "art.png").write_text("this is text, not a picture")
    with pytest.raises(MemeError, match="not an image Pillow can read") as caught:
        load_template(folder)
    assert "field 'image'" in str(caught.value)


def test_art_that_is_truncated_or_a_decompression_bomb_is_a_clear_error(make_template):
    folder = make_template("cut", [], config=f"image: art.png\nboxes:\n  - {BOX}\n")
    whole = (folder / "art.png").read_bytes()
    (folder / "art.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(MemeError, match="not an image Pillow can read"):
        load_template(folder)
    bomb = make_template("bomb", [], config=f"image: art.png\nboxes:\n  - {BOX}\n")
    Image.new("1", (20000, 20000)).save(bomb / "art.png")  # 400 megapixels, a few KB on disk
    with pytest.raises(MemeError, match="not an image Pillow can read") as caught:
        load_template(bomb)
    assert "decompression bomb" in str(caught.value).lower()
