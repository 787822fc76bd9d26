"""Planning and the render cache: only what changed is rendered, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.paths import ROOT, TEMPLATES

from generator.declarations import MemeSpec
from generator.errors import MemeError, MemeErrors
from generator.pipeline import MemeCache, plan_meme, plan_posts
from generator.render import Encoding
from generator.templates import TemplateLibrary

LIBRARY = TemplateLibrary(TEMPLATES)


def spec(captions=("Push it", "Pull it"), template="prefer", id="m") -> MemeSpec:
    return MemeSpec("docs/post.md", 3, 9, id, template, tuple(captions), "a figure picks one")


def test_file_name_carries_the_hash_of_every_input():
    a = plan_meme(spec(), LIBRARY, Encoding())
    assert a.file_name == f"m-{a.digest[:16]}.webp"
    assert plan_meme(spec(), LIBRARY, Encoding()).digest == a.digest
    assert plan_meme(spec(("Push it!", "Pull it")), LIBRARY, Encoding()).digest != a.digest
    assert plan_meme(spec(), LIBRARY, Encoding(quality=70)).digest != a.digest
    jpeg = plan_meme(spec(), LIBRARY, Encoding(format="jpeg"))
    assert jpeg.file_name.endswith(".jpg") and jpeg.digest != a.digest


def test_second_pass_renders_nothing_and_one_edit_renders_one(tmp_path):
    cache = MemeCache(tmp_path)
    memes = [
        plan_meme(spec(id=f"m{i}", captions=(f"Case {i}", "Pull")), LIBRARY, Encoding())
        for i in range(4)
    ]
    first = cache.ensure(memes)
    assert len(first.rendered) == 4 and not first.reused
    assert not cache.ensure(memes).rendered
    memes[2] = plan_meme(spec(id="m2", captions=("Edited", "Pull")), LIBRARY, Encoding())
    third = cache.ensure(memes)
    assert third.rendered == [memes[2].file_name] and len(third.reused) == 3
    with Image.open(cache.path(memes[2])) as image:
        assert image.format == "WEBP" and image.width == 1200
    assert not list(tmp_path.glob(".*.tmp")), "temporary files must not be left behind"


def test_jpeg_output(tmp_path):
    meme = plan_meme(spec(), LIBRARY, Encoding(format="jpeg", quality=85))
    MemeCache(tmp_path).ensure([meme])
    with Image.open(MemeCache(tmp_path).path(meme)) as image:
        assert image.format == "JPEG" and image.size == (1200, 900)


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(MemeError, match="unknown template 'distracted'") as caught:
        plan_meme(spec(template="distracted"), LIBRARY, Encoding())
    assert "known templates: before-after, bell-curve, brain-ladder" in str(caught.value)


def test_template_path_that_leaves_the_project():
    with pytest.raises(MemeError, match="is a path, which may leave the project"):
        plan_meme(spec(template="../../../etc"), LIBRARY, Encoding())


def test_wrong_number_of_captions():
    with pytest.raises(MemeError, match="takes 2 captions, got 1"):
        plan_meme(spec(captions=("Only one",)), LIBRARY, Encoding())


def test_caption_that_cannot_fit_names_post_meme_and_caption():
    long = "words " * 80
    with pytest.raises(MemeError) as caught:
        plan_meme(spec(captions=("Short", long)), LIBRARY, Encoding())
    message = str(caught.value)
    assert message.startswith("docs/post.md:3") and "meme 'm', caption 2" in message
    assert "even at the minimum size" in message


def test_every_mistake_is_gathered():
    post = "```meme\nid: a\ntemplate: nope\ncaptions: [x]\nalt: a b c\n```\n"
    other = "```meme\nid: b\ntemplate: prefer\ncaptions: [x]\nalt: a b c\n```\n"
    with pytest.raises(MemeErrors) as caught:
        plan_posts([("one.md", post), ("two.md", other)], LIBRARY, Encoding())
    assert len(caught.value.errors) == 2
    assert "one.md:3" in str(caught.value) and "two.md:4" in str(caught.value)


def test_the_engine_imports_nothing_of_mkdocs_or_jinja2():
    code = (
        "import sys, generator.pipeline, generator.templates, generator.__main__;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mkdocs', 'jinja2')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_command_line_renders_one_meme(tmp_path):
    out = tmp_path / "cli.webp"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "meme",
            "classic",
            "Top text",
            "Bottom text",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (1200, 800)
    bad = subprocess.run(
        [sys.executable, "-m", "generator", "meme", "nope", "x", "-o", str(tmp_path / "x.webp")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown template 'nope'" in bad.stderr
    assert not (tmp_path / "x.webp").exists()


@pytest.mark.parametrize("target", ["folder", "/dev/null"])
def test_command_line_writes_only_regular_files(tmp_path, target):
    output = tmp_path if target == "folder" else Path(target)
    before = os.lstat(output)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "meme", "classic", "top", "bottom", "-o", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: -o {output}: {output} is a ")
    after = os.lstat(output)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), "it was replaced"


def test_a_capitalised_template_gets_the_right_advice():
    library = TemplateLibrary(TEMPLATES)
    spec = MemeSpec("docs/p.md", 3, 9, "x", "Classic", ("top", "bottom"), "a b c")
    with pytest.raises(MemeError) as caught:
        plan_meme(spec, library, Encoding())
    assert "unknown template 'Classic'" in caught.value.problem
    assert caught.value.fix == "did you mean 'classic'? Template names are lowercase"
    assert "path" not in str(caught.value)
