"""Scripts and glyphs: right-to-left and joined scripts shaped by raqm, CJK set in the fallback
font and wrapped between characters, and a character no font has stops the build."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont
from support.paths import TEMPLATES

from generator.declarations import MemeSpec
from generator.errors import MemeError
from generator.fitting import fit_caption, tokens
from generator.fonts import FONT_FILES, NOTO_CJK_BOLD, raqm_available, source_path
from generator.pipeline import meme_digest, plan_meme
from generator.render import Encoding, draw
from generator.shaping import missing_characters, needs_shaping, set_line
from generator.templates import TemplateLibrary, TextBox, load_template

DEJAVU = FONT_FILES["sans-bold"]


def plain_box(**options) -> TextBox:
    values = {"name": "b", "x": 0.05, "y": 0.1, "w": 0.9, "h": 0.5, "stroke": 0.0}
    return TextBox(**values | options)


def drawn(make_template, text: str, **options) -> tuple[Image.Image, object]:
    """`text` fitted and drawn by the engine on plain art, and its fitted caption."""
    folder = make_template("plain", [{"name": "b", "x": 0.05, "y": 0.1, "w": 0.9, "h": 0.5}])
    template = load_template(folder)
    fitted = fit_caption(text, plain_box(**options), (1200, 800))
    return draw(template.image_path, template.art_sha256, [fitted]), fitted


def test_raqm_is_here():
    assert raqm_available(), "Pillow's raqm layout needs FriBiDi (make test installs libfribidi0)"


@pytest.mark.parametrize("text", ["שלום עולם", "مرحبا بالعالم"], ids=["hebrew", "arabic"])
def test_right_to_left_text_is_drawn_as_raqm_shapes_it(make_template, text):
    """The engine's pixels equal Pillow's raqm drawing of the same text, and differ from the
    basic engine's (which draws Hebrew reversed and Arabic unjoined)."""
    assert needs_shaping(text)
    image, fitted = drawn(make_template, text)
    [line] = fitted.lines
    [piece] = line.pieces
    assert piece.shaped and piece.source == DEJAVU

    def reference(engine) -> Image.Image:
        art = Image.new("RGB", image.size, "#808080")
        font = ImageFont.truetype(str(source_path(DEJAVU)), fitted.size, layout_engine=engine)
        ImageDraw.Draw(art).text(
            (line.x, line.baseline), text, font=font, fill="white", anchor="ls"
        )
        return art

    assert ImageChops.difference(image, reference(ImageFont.Layout.RAQM)).getbbox() is None
    assert ImageChops.difference(image, reference(ImageFont.Layout.BASIC)).getbbox() is not None


def test_arabic_is_joined():
    """Joined letters take their contextual forms: the shaped word is narrower than the
    isolated letters side by side."""
    word = "مرحبا"
    font = ImageFont.truetype(str(source_path(DEJAVU)), 64, layout_engine=ImageFont.Layout.RAQM)
    isolated = sum(font.getlength(letter) for letter in word)
    left, right = set_line("sans-bold", 64, 0, word)[1]
    assert right - left < isolated


def test_right_to_left_captions_start_at_the_right():
    hebrew = fit_caption("שלום", plain_box(align="left"), (1200, 800))
    latin = fit_caption("Hello", plain_box(align="left"), (1200, 800))
    box_left, box_right = 60, 60 + 1080
    hebrew_ink = set_line("sans-bold", hebrew.size, 0, "שלום")[1]
    assert hebrew.lines[0].x + hebrew_ink[1] == box_right
    assert latin.lines[0].x + set_line("sans-bold", latin.size, 0, "Hello")[1][0] == box_left


def test_japanese_is_set_in_the_cjk_font_and_wraps_between_characters(make_template):
    text = "エージェントがクラスタの中から変更を取りに行く、それがプルだ。"
    assert missing_characters("sans-bold", text) == []
    image, fitted = drawn(make_template, text, w=0.4, max_lines=3)
    assert 2 <= len(fitted.lines) <= 3
    assert "".join(line.text for line in fitted.lines) == text, "no space added or lost"
    for line in fitted.lines:
        assert not line.text.startswith(("、", "。")), "no line starts with closing punctuation"
        assert {piece.source for piece in line.pieces} == {NOTO_CJK_BOLD}
    background = Image.new("RGB", image.size, "#808080")
    assert ImageChops.difference(image, background).getbbox() is not None, "ink was drawn"


def test_mixed_latin_and_japanese_share_one_baseline():
    pieces, _ = set_line("sans-bold", 60, 0, "Push と Pull")
    assert [piece.source for piece in pieces] == [DEJAVU, NOTO_CJK_BOLD, DEJAVU]
    assert pieces[0].dx == 0 < pieces[1].dx < pieces[2].dx


def test_cjk_tokens_keep_punctuation_and_latin_words_whole():
    assert tokens("Ship it now") == [("", "Ship"), (" ", "it"), (" ", "now")]
    assert ("", "か、") in tokens("プルか、それ")
    assert tokens("안녕하세요 세계") == [("", "안녕하세요"), (" ", "세계")]


def _spec(captions: tuple[str, ...]) -> MemeSpec:
    return MemeSpec(
        "docs/post.md",
        3,
        9,
        "glyphs",
        "prefer",
        captions,
        "a b c",
        field_lines={"captions": 6, "captions[0]": 7, "captions[1]": 8},
    )


@pytest.mark.parametrize(
    ("captions", "message", "line"),
    [
        (("Ship it 🚀", "ok"), "no font here has '🚀' (U+1F680 ROCKET)", 7),
        (("ok", "\u200b\u2060"), "caption 2 '\\u200b\\u2060' has nothing to see", 8),
        (("ok", "Linear B: \U00010000"), "(U+10000 LINEAR B SYLLABLE B008 A)", 8),
        (("ok", "\u0301\u0308"), "has nothing to see", 8),
        (("ring \x07 bell", "ok"), "no font here has (U+0007 a control character)", 7),
    ],
    ids=["emoji", "zero-width only", "a script no font has", "marks only", "control character"],
)
def test_text_that_cannot_be_drawn_names_the_post_meme_line_and_characters(captions, message, line):
    with pytest.raises(MemeError) as caught:
        plan_meme(_spec(captions), TemplateLibrary(TEMPLATES), Encoding())
    text = str(caught.value)
    assert text.startswith(f"docs/post.md:{line}: field 'captions': meme 'glyphs'"), text
    assert message in text, text


def test_the_hash_holds_the_fonts_used_and_the_layout_engines(monkeypatch):
    from generator import fonts, pipeline

    library = TemplateLibrary(TEMPLATES)
    latin = plan_meme(_spec(("Push", "Pull")), library, Encoding())
    japanese = plan_meme(_spec(("プッシュ", "プル")), library, Encoding())
    assert latin.digest != japanese.digest
    monkeypatch.setattr(
        pipeline, "layout_versions", lambda: {**fonts.layout_versions(), "harfbuzz": "0.0"}
    )
    again = meme_digest(japanese.template, japanese.captions, japanese.encoding)
    assert again != japanese.digest, "a new HarfBuzz changes the hash"


def test_the_fallback_font_licence_goes_with_memes_that_use_it():
    from generator.site.planning import font_licences

    library = TemplateLibrary(TEMPLATES)
    latin = plan_meme(_spec(("Push", "Pull")), library, Encoding())
    japanese = plan_meme(_spec(("プッシュ", "プル")), library, Encoding())
    assert [name for name, _ in font_licences([latin])] == ["LICENSE-DejaVu-fonts.txt"]
    published = dict(font_licences([latin, japanese]))
    assert sorted(published) == ["LICENSE-DejaVu-fonts.txt", "LICENSE-Noto-CJK.txt"]
    assert "SIL OPEN FONT LICENSE" in published["LICENSE-Noto-CJK.txt"].read_text().upper()
