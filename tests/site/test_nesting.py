"""Memes wherever Markdown nests them, and only on the pages MkDocs builds."""

from __future__ import annotations

import re
import textwrap

from support.helpers import MEME, build_error, build_site, nested_post


def _figures(html: str) -> dict[str, str]:
    """meme id -> the src of its image."""
    figure = r'<figure class="meme" id="meme-([a-z0-9-]+)">\s*<img src="([^"]+)"'
    return dict(re.findall(figure, html))


def test_memes_in_an_admonition_a_list_a_tab_and_a_quote(project_copy, tmp_path):
    (project_copy / "docs" / "nested.md").write_text(nested_post())
    config = project_copy / "mkdocs.yml"
    nav = config.read_text().replace("  - Tags: tags.md", "  - Tags: tags.md\n  - nested.md")
    config.write_text(nav)
    site = tmp_path / "site"
    build_site(project_copy, site, tmp_path / "cache")
    html = (site / "nested" / "index.html").read_text()
    figures = _figures(html)
    assert sorted(figures) == ["boxed", "listed", "quoted", "tabbed"], figures
    for src in figures.values():
        assert (site / "nested" / src).resolve().is_file(), src
    # No meme ships as a YAML code block; the example inside a code block stays an example.
    assert html.count("captions:") == 1 and "shown as an example" in html
    # Inside its container: the admonition's, the list item's and the tab's HTML hold them.
    assert re.search(r'<div class="admonition tip">.*?id="meme-boxed".*?</div>', html, re.S)
    assert re.search(r"<li>.*?id=\"meme-listed\".*?</li>", html, re.S)
    assert re.search(r'<div class="tabbed-block">\s*<figure class="meme" id="meme-tabbed"', html)
    assert re.search(r"<blockquote>.*?id=\"meme-quoted\".*?</blockquote>", html, re.S)


def test_a_nested_meme_with_a_mistake_names_its_own_line(project_copy, tmp_path, caplog):
    listed = "A meme in a list item"
    text = nested_post().replace(
        f"template: prefer\n    captions:\n      - A meme at the top of the page\n      - {listed}",
        f"template: nope\n    captions:\n      - A meme at the top of the page\n      - {listed}",
    )
    assert "template: nope" in text
    (project_copy / "docs" / "nested.md").write_text(text)
    message = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "template: nope" in row)
    assert message.startswith(f"docs/nested.md:{line}: field 'template'"), message
    assert not (tmp_path / "site").exists()


def test_a_meme_markdown_does_not_read_as_a_fence_is_an_error(project_copy, tmp_path, caplog):
    """A fence closed outside its list item is no fence to Markdown: the YAML would ship."""
    meme = textwrap.indent(MEME.format(id="odd", where="closed too far left"), "    ")
    meme = meme.rstrip("\n").removesuffix("    ```") + "```\n"
    (project_copy / "docs" / "odd.md").write_text("# Odd\n\n- An item\n\n" + meme)
    message = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    assert "docs/odd.md:5: meme 'odd' was found but Markdown did not read it as a fence" in message


def test_pages_come_from_mkdocs_excluded_and_draft_pages_are_not_planned(project_copy, tmp_path):
    broken = MEME.format(id="broken", where="on a page that is not built").replace(
        "template: prefer", "template: missing"
    )
    (project_copy / "docs" / "notes").mkdir()
    (project_copy / "docs" / "notes" / "scratch.md").write_text("# Scratch\n\n" + broken)
    (project_copy / "docs" / "draft.md").write_text("# Draft\n\n" + broken)
    config = project_copy / "mkdocs.yml"
    config.write_text(
        config.read_text() + "\nexclude_docs: |\n  notes/\ndraft_docs: |\n  draft.md\n"
    )
    site = tmp_path / "site"
    plugin = build_site(project_copy, site, tmp_path / "cache")
    assert "notes/scratch.md" not in plugin.planned and "draft.md" not in plugin.planned
    assert not (site / "notes").exists() and not (site / "draft").exists()


def test_without_the_meme_fence_the_build_says_what_to_add(project_copy, tmp_path, caplog):
    config = project_copy / "mkdocs.yml"
    text = re.sub(r"      custom_fences:\n(        .*\n)+", "", config.read_text())
    assert "custom_fences" not in text
    config.write_text(text)
    message = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    assert message.startswith("mkdocs.yml: the memes plugin needs the `meme` fence"), message
    assert "format: !!python/name:generator.site.fence.format_meme" in message
    assert not (tmp_path / "site").exists()
