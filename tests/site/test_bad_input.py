"""The bad-input corpus, under both builders: each mistake an author (or an attacker) can make
in what the site reads stops the build with one message naming the file and line, never a
traceback, never a page that ships broken, and the last good site stays where it was.

Each case edits a copy of the project, leaves a "last good" site in it, then runs the builder as
an author does (`mkdocs build --strict`, `python -m generator.site.zensical`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

LAB = "docs/lab/index.md"
WORKSHOP = "docs/workshop/index.md"
PART2 = "docs/series/part-2-kubernetes.md"
RESULTS = "docs/lab/results"
MEME = """```meme
id: {id}
template: two-buttons
captions:
  - Left
  - Right
  - {chooser}
alt: Two buttons, left and right, and someone who cannot choose.
```
"""


def rewrite(project: Path, path: str, change: Callable[[str], str]) -> None:
    target = project / path
    before = target.read_text()
    after = change(before)
    assert after != before, f"test setup: nothing changed in {path}"
    target.write_text(after)


def edit_json(project: Path, path: str, change: Callable[[dict], None]) -> None:
    target = project / path
    document = json.loads(target.read_text())
    change(document)
    target.write_text(json.dumps(document, indent=1))


def line_of(project: Path, path: str, needle: str) -> int:
    lines = (project / path).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def fence_line(experiment: str, chart: str | None = None) -> Callable[[Path], str]:
    """Where the lab page's fence of `experiment` (and `chart`) opens: LAB:line."""

    def where(project: Path) -> str:
        lines = [line.strip() for line in (project / LAB).read_text().splitlines()]  # nested too
        for n, line in enumerate(lines, 1):
            body = lines[n : n + 2]
            named = line == "```lab-result" and body[0] == f"experiment: {experiment}"
            if named and (chart is None or body[1] == f"chart: {chart}"):
                return f"{LAB}:{n}:"
        raise AssertionError(f"test setup: no fence of {experiment} in {LAB}")

    return where


def add_page(text: str) -> Callable[[Path], None]:
    """A page of its own, in the nav, holding `text`."""

    def edit(project: Path) -> None:
        (project / "docs" / "odd.md").write_text(text)
        rewrite(
            project,
            "mkdocs.yml",
            lambda t: t.replace("  - Tags: tags.md", "  - Tags: tags.md\n  - odd.md", 1),
        )

    return edit


@dataclass(frozen=True)
class Case:
    edit: Callable[[Path], None]
    message: str
    where: Callable[[Path], str]  # the "file:line:" the error starts with


def _drop_sample_field(project: Path) -> None:
    edit_json(project, f"{RESULTS}/polling-load.json",
              lambda d: d["samples"][0].pop("bytes_per_minute"))  # fmt: skip


def _room_without_a_fix(project: Path) -> None:
    edit_json(project, "docs/workshop/room.json", lambda d: d["problems"][0].pop("fix"))


def _versions_without_a_where(project: Path) -> None:
    edit_json(project, "docs/lab/versions.json", lambda d: d["pins"][0].pop("where"))


def _bad_recording_line(project: Path) -> None:
    rewrite(project, "docs/lab/recordings/demo-kind.cast",
            lambda t: t.replace("\n[", "\n[oops, \n[", 1))  # fmt: skip


def _nan(project: Path) -> None:
    rewrite(project, f"{RESULTS}/lead-time.json",
            lambda t: t.replace('"median": ', '"median": NaN, "was": ', 1))  # fmt: skip


def _negative(project: Path) -> None:
    edit_json(project, f"{RESULTS}/lead-time.json",
              lambda d: d["samples"][0].update(seconds=-3.5))  # fmt: skip


def _not_json(project: Path) -> None:
    (project / RESULTS / "credentials.json").write_text('{"experiment": "credentials",\n')


def _path_experiment(project: Path) -> None:
    evil = "experiment: lead-time-/../../../../tmp/evil\n"
    rewrite(project, LAB, lambda t: t.replace("experiment: lead-time\n", evil, 1))


def _linked_result(project: Path) -> None:
    outside = project.parent / "elsewhere.json"
    target = project / RESULTS / "flexibility.json"
    shutil.move(target, outside)
    target.symlink_to(outside)


def _front_matter(change: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda project: rewrite(project, PART2, change)


def _three_broken_blocks(project: Path) -> None:
    def change(text: str) -> str:
        for old, new in (("template: labelled-scene", "template: no-such"),
                         ("id: no-observability", "id: Not An Id"),
                         ("alt: Two buttons on", "# alt: Two buttons on")):  # fmt: skip
            assert old in text, old
            text = text.replace(old, new, 1)
        return text

    rewrite(project, PART2, change)


PREFER = "img/templates/prefer/template.yml"
PART5 = "docs/series/part-5-service-models.md"
SECRET = "root:x:0:0:a file of the machine, never to be quoted"


def _outside(project: Path) -> Path:
    """A file beside the project (as /etc/passwd is beside any checkout)."""
    outside = project.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "passwd").write_text(f"{SECRET}\n")
    return outside


def _linked_template_config(project: Path) -> None:
    config = project / PREFER
    config.unlink()
    config.symlink_to(_outside(project) / "passwd")


def _linked_template_folder(project: Path) -> None:
    outside = _outside(project) / "template"
    shutil.copytree(project / "img/templates/prefer", outside)
    (project / "img/templates/elsewhere").symlink_to(outside)


def _extreme_art(project: Path) -> None:
    from PIL import Image

    Image.new("RGB", (2, 20_000), "white").save(project / "img/templates/prefer/art.png")


def _folder_not_a_slug(project: Path) -> None:
    shutil.copytree(project / "img/templates/prefer", project / "img/templates/Prefer Me")


def _output_dir(value: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        option = f"  - memes:\n      output_dir: {value}\n"
        rewrite(project, "mkdocs.yml", lambda t: t.replace("  - memes\n", option, 1))

    return edit


def _docs_file_in_the_way(project: Path) -> None:
    (project / "docs" / "assets").mkdir(exist_ok=True)
    (project / "docs" / "assets" / "memes").write_text("a page's file where memes go")


def _first_meme(project: Path) -> str:
    """The first meme the site plans: the home page's."""
    return f"docs/index.md:{line_of(project, 'docs/index.md', 'id: ')}:"


CASES = {
    "a sample lacks a field a chart draws": Case(
        _drop_sample_field, "has no 'bytes_per_minute'", fence_line("polling-load", "polling-bytes")
    ),
    "room.json lacks a field": Case(
        _room_without_a_fix,
        "problems item 1 needs the text fields ['fix']",
        lambda p: f"{WORKSHOP}:{line_of(p, WORKSHOP, '```workshop-room')}:",
    ),
    "versions.json lacks a field": Case(
        _versions_without_a_where,
        "pin 1 needs the text fields ['name', 'version', 'where', 'note']",
        lambda p: f"{LAB}:{line_of(p, LAB, '```lab-versions')}:",
    ),
    "a recording line is not an event": Case(
        _bad_recording_line,
        "demo-kind.cast:2 is not an event of an asciicast",
        lambda p: f"{WORKSHOP}:",
    ),
    "NaN in a result": Case(_nan, "NaN is not a measurement", fence_line("lead-time")),
    "a negative duration": Case(
        _negative,
        "does not match schema.json at samples/0/seconds: -3.5 is less than the minimum of 0",
        fence_line("lead-time"),
    ),
    "a result that is not JSON": Case(
        _not_json, "credentials.json is not JSON", fence_line("credentials")
    ),
    "an experiment name that is a path": Case(
        _path_experiment,
        "'lead-time-/../../../../tmp/evil' is not an experiment's name",
        lambda p: f"{LAB}:{line_of(p, LAB, 'tmp/evil') - 1}:",
    ),
    "a result linked from outside": Case(
        _linked_result, "flexibility.json is a link", fence_line("flexibility")
    ),
    "an impossible date in front matter": Case(
        _front_matter(lambda t: t.replace("date: 2021-07-09", "date: 2021-02-30", 1)),
        "the front matter has a value YAML cannot build: day is out of range",
        lambda p: f"{PART2}:{line_of(p, PART2, 'date: 2021-02-30')}:",
    ),
    "a control character in front matter": Case(
        _front_matter(lambda t: t.replace("series: tell-it", "series: tell\x07it", 1)),
        "the front matter is not valid YAML: unacceptable character #x0007",
        lambda p: f"{PART2}:{line_of(p, PART2, 'series: tell')}:",
    ),
    "an alias bomb in front matter": Case(
        _front_matter(
            lambda t: t.replace(
                "series: tell-it-with-a-meme",
                'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                "series: [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
                1,
            )
        ),
        "the front matter uses a YAML anchor or alias",
        lambda p: f"{PART2}:{line_of(p, PART2, 'a: &a')}:",
    ),
    "template.yml linked from outside": Case(
        _linked_template_config,
        "template.yml is a link (or not a file), which is never followed",
        lambda p: f"{PREFER}:",
    ),
    "a template folder linked from outside": Case(
        _linked_template_folder,
        "the template's folder is a link out of the templates folder",
        lambda p: "img/templates/elsewhere:",
    ),
    "art of an extreme aspect ratio": Case(
        _extreme_art,
        "'art.png' is no size for a meme: it is 2 x 20000 px",
        lambda p: f"{PREFER}:3:",
    ),
    "a template folder that is not a name": Case(
        _folder_not_a_slug,
        "the template folder 'Prefer Me' is not a template's name",
        lambda p: "img/templates/Prefer Me:",
    ),
    "a NaN box coordinate": Case(
        lambda p: rewrite(p, PREFER, lambda t: t.replace("x: 0.45, y: 0.04", "x: .nan, y: 0.04")),
        "box 'rejected' needs 'x' as a fraction of the picture",
        lambda p: f"{PREFER}:6:",
    ),
    "a max_size that is not a size": Case(
        lambda p: rewrite(p, PREFER, lambda t: t.replace("max_size: 76", "max_size: big")),
        "has max_size='big' (expected whole pixels from 12 to 400)",
        lambda p: f"{PREFER}:6:",
    ),
    "a control character in a template": Case(
        lambda p: rewrite(p, PREFER, lambda t: t.replace("Prefer / reject", "Prefer \x01 reject")),
        "the template config is not valid YAML: unacceptable character #x0001",
        lambda p: f"{PREFER}:1:",
    ),
    "a control character in a caption": Case(
        lambda p: rewrite(
            p,
            PART2,
            lambda t: t.replace("  - PodSecurityPolicy\n", "  - Pod\x1bSecurityPolicy\n", 1),
        ),
        "holds the control character U+001B, which no page can show",
        lambda p: f"{PART2}:{line_of(p, PART2, 'Pod' + chr(27))}:",
    ),
    "control characters in a post's prose": Case(
        add_page("# Odd\n\nSome text.\n\nA NUL \x00 and a bell \x07 pasted in.\n"),
        "column 7 holds the control character U+0000, which no page can show",
        lambda p: "docs/odd.md:5:",
    ),
    "two posts claim one part": Case(
        lambda p: rewrite(p, PART5, lambda t: t.replace("part: 5", "part: 4", 1)),
        "docs/series/part-4-push-or-pull.md and docs/series/part-5-service-models.md both claim"
        " part 4",
        lambda p: f"{PART5}: field 'part'",
    ),
    "a docs file where the memes go": Case(
        _docs_file_in_the_way,
        "but assets/memes is a file of docs/",
        _first_meme,
    ),
    "an output folder name too long": Case(
        _output_dir("m" * 300),
        "a path too long for the file system",
        _first_meme,
    ),
    "a meme indented as code": Case(
        add_page(
            "# Odd\n\nText.\n\n"
            + "".join(
                "    " + line + "\n" for line in MEME.format(id="odd", chooser="C").splitlines()
            )
        ),
        "which Markdown shows as code",
        lambda p: "docs/odd.md:5:",
    ),
}


def run(builder: str, project: Path, charts: Path) -> subprocess.CompletedProcess:
    command = {
        "mkdocs": [sys.executable, "-m", "mkdocs", "build", "--strict"],
        "zensical": [sys.executable, "-m", "generator.site.zensical", "-f", "mkdocs.yml"],
    }[builder]
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "LAB_CHARTS_CACHE": str(charts)}
    return subprocess.run(command, cwd=project, env=environment, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def charts(tmp_path_factory) -> Path:
    """The lab's charts, drawn once for every case (a cache keyed by their inputs)."""
    return tmp_path_factory.mktemp("charts")


def errors_of(result: subprocess.CompletedProcess) -> list[str]:
    """The builder's error lines, as an author reads them (MkDocs' prefix taken off)."""
    said = []
    for line in (result.stdout + result.stderr).splitlines():
        for prefix in ("ERROR   -  ", "error: ", "  - "):
            if line.startswith(prefix):
                said.append(line.removeprefix(prefix))
    return said


def with_last_good_site(project: Path) -> Path:
    site = project / "site"
    site.mkdir()
    (site / "index.html").write_text("the last good site")
    return site


@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_the_build_saying_where(project_copy, charts, builder, case):
    spec = CASES[case]
    spec.edit(project_copy)
    site = with_last_good_site(project_copy)
    result = run(builder, project_copy, charts)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    where = spec.where(project_copy)
    assert any(line.startswith(where) and spec.message in line for line in errors_of(result)), (
        where, spec.message, said[-3000:])  # fmt: skip
    assert (site / "index.html").read_text() == "the last good site"
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    assert SECRET not in said, "an error never quotes a file it should not have read"


@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
def test_every_broken_block_of_a_post_is_reported_in_one_build(project_copy, charts, builder):
    _three_broken_blocks(project_copy)
    result = run(builder, project_copy, charts)
    assert result.returncode != 0
    said = [line for line in errors_of(result) if line.startswith(PART2)]
    assert len(said) == 3, result.stdout[-2000:] + result.stderr[-2000:]
    assert any("unknown template 'no-such'" in line for line in said)
    assert any("field 'id'" in line for line in said)
    assert any("missing 'alt'" in line for line in said)


@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
def test_a_meme_in_an_html_comment_is_neither_shown_nor_published(project_copy, charts, builder):
    add_page(
        "# Odd\n\n<!--\n"
        + MEME.format(id="hidden", chooser="Me")
        + "-->\n\n"
        + MEME.format(id="shown", chooser="You")
    )(project_copy)
    result = run(builder, project_copy, charts)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    page = (project_copy / "site" / "odd" / "index.html").read_text()
    assert 'id="meme-shown"' in page and "meme-hidden" not in page
    published = [p.name for p in (project_copy / "site" / "assets" / "memes" / "odd").iterdir()]
    assert len(published) == 1 and published[0].startswith("shown-"), published


@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
def test_a_build_that_fails_after_writing_pages_keeps_the_last_good_site(
    project_copy, charts, builder
):
    """A broken link is found while pages are written (after the site was emptied)."""
    add_page("# Odd\n\n[a page that is not there](missing.md)\n")(project_copy)
    site = with_last_good_site(project_copy)
    result = run(builder, project_copy, charts)
    assert result.returncode != 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "missing.md" in re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert (site / "index.html").read_text() == "the last good site"
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    assert not (project_copy / ".site.last-good").exists()


def test_a_font_file_that_is_not_a_font_is_an_error_not_a_system_font(tmp_path, monkeypatch):
    """Given a path it cannot read, Pillow quietly loads a system font of the same name."""
    from generator import fonts
    from generator.errors import MemeError

    package = tmp_path / "brokenfonts"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "DejaVuSans-Bold.ttf").write_bytes(b"not a font at all")
    monkeypatch.syspath_prepend(str(tmp_path))
    source = fonts.FontSource("brokenfonts", "DejaVuSans-Bold.ttf", "LICENSE", "LICENSE.txt")
    with pytest.raises(MemeError) as caught:
        fonts.load(source, 40, False)
    message = str(caught.value)
    assert "DejaVuSans-Bold.ttf of the package brokenfonts cannot be read as a font" in message
    assert "make clean" in message
