"""The same site built with Zensical (pinned): every meme present, every figure as MkDocs prints it.

Zensical runs no MkDocs plugins; `python -m generator.site.zensical` renders the memes first and
Zensical's superfences calls the project's `meme` fence. What only the MkDocs adapter adds
(series navigation, card images) is listed in the README.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.helpers import MEME, build_site, nested_post
from support.paths import ROOT


class Figures(HTMLParser):
    """Each meme figure of a page: its id, image attributes and caption."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.charts: list[str] = []  # ids of the lab's result charts (figures of their own)
        self._in_meme = False
        self._in_caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._in_meme = attrs.get("class") == "meme"
            if self._in_meme:
                self.found.append({"id": attrs["id"], "caption": None})
            elif attrs.get("class") == "lab-result":
                self.charts.append(attrs["id"])
        elif tag == "img" and self._in_meme and "src" not in self.found[-1]:
            self.found[-1].update(attrs)
        elif tag == "figcaption" and self._in_meme:
            self._in_caption = True

    def handle_endtag(self, tag):
        self._in_caption = False if tag == "figcaption" else self._in_caption
        self._in_meme = False if tag == "figure" else self._in_meme

    def handle_data(self, data):
        if self._in_caption:
            self.found[-1]["caption"] = (self.found[-1]["caption"] or "") + data


def zensical(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "generator.site.zensical", "-f", str(project / "mkdocs.yml")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_project(folder: Path) -> Path:
    for part in ("docs", "overrides", "img/templates", "includes"):
        shutil.copytree(ROOT / part, folder / part)
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    (folder / "docs" / "nested.md").write_text(nested_post())
    config = folder / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("  - Tags: tags.md", "  - Tags: tags.md\n  - nested.md")
    )
    return folder


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """One project (the real site plus a page of nested memes) built by MkDocs and Zensical."""
    project = copy_project(tmp_path_factory.mktemp("zensical"))
    mkdocs_site = project.parent / "mkdocs-site"
    build_site(project, mkdocs_site, project.parent / "mkdocs-cache")
    result = zensical(project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return mkdocs_site, project / "site", result


def test_every_meme_is_published_and_every_figure_matches_mkdocs(both):
    mkdocs_site, zensical_site, _ = both
    pages = sorted(p.relative_to(mkdocs_site) for p in mkdocs_site.rglob("index.html"))
    compared = 0
    for page in pages:
        theirs = Figures((mkdocs_site / page).read_text()).found
        ours = Figures((zensical_site / page).read_text()).found
        assert len(ours) == len(theirs), page
        for by_mkdocs, by_zensical in zip(theirs, ours, strict=True):
            image = (zensical_site / page).parent / by_zensical["src"]
            assert image.resolve().is_file(), (page, by_zensical["src"])
            reference = (mkdocs_site / page).parent / by_mkdocs["src"]
            assert image.read_bytes() == reference.read_bytes(), "the same pixels, byte for byte"
            for key in ("id", "alt", "width", "height", "loading", "fetchpriority", "caption"):
                assert by_zensical.get(key) == by_mkdocs.get(key), (page, key)
            compared += 1
    assert compared >= 21, "17 memes of the series and 4 nested ones"
    # The lab's charts come from a fence that needs no plugin: the same under both builders.
    lab = "lab/index.html"
    charts = Figures((mkdocs_site / lab).read_text()).charts
    assert len(charts) >= 4 and Figures((zensical_site / lab).read_text()).charts == charts
    nested = Figures((zensical_site / "nested" / "index.html").read_text()).found
    assert [f["id"] for f in nested] == ["meme-boxed", "meme-listed", "meme-tabbed", "meme-quoted"]


def test_the_build_reports_its_memes(both):
    _, zensical_site, result = both
    assert re.search(r"memes: 21 published into site/", result.stdout), result.stdout
    assert (zensical_site / "assets" / "memes" / "LICENSE-DejaVu-fonts.txt").is_file()


def test_a_bad_meme_stops_the_zensical_build_before_any_output(tmp_path):
    project = copy_project(tmp_path / "project")
    post = project / "docs" / "series" / "part-4-push-or-pull.md"
    post.write_text(post.read_text().replace("template: two-buttons", "template: Two-Buttons", 1))
    result = zensical(project)
    assert result.returncode == 2
    line = next(
        n
        for n, row in enumerate(post.read_text().splitlines(), 1)
        if "template: Two-Buttons" in row
    )
    assert result.stderr.startswith(
        f"error: docs/series/part-4-push-or-pull.md:{line}: field 'template'"
    ), result.stderr
    assert "did you mean 'two-buttons'?" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "site").exists()
    # The lab's charts may be drawn into their cache while every fence is checked; no meme is.
    memes = project / ".cache" / "memes"
    assert not memes.exists() or not any(memes.iterdir())


def test_zensical_alone_says_how_to_build(tmp_path):
    """`zensical build` without the memes rendered first stops with what to run instead."""
    project = copy_project(tmp_path / "project")
    result = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "-f", str(project / "mkdocs.yml")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "run `make site BUILDER=zensical`" in result.stdout + result.stderr


def test_a_meme_markdown_does_not_read_as_a_fence_stops_the_zensical_build(tmp_path):
    project = copy_project(tmp_path / "project")
    meme = "\n".join("    " + line for line in MEME.format(id="odd", where="x").splitlines())
    meme = meme.removesuffix("    ```") + "```\n"
    (project / "docs" / "odd.md").write_text("# Odd\n\n- An item\n\n" + meme)
    result = zensical(project)
    assert result.returncode == 2
    assert "docs/odd.md:5: meme 'odd' was found but Markdown did not read it" in result.stderr
