"""The real site: a strict build, its figures, series navigation, cards, cache and bad input."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from PIL import Image
from support.helpers import PUBLISHED, build_error, build_site
from support.paths import POSTS, ROOT

SITE_URL = PUBLISHED["SITE_URL"]


class Page(HTMLParser):
    """The parts of a built page the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[dict] = []
        self.meta: dict[str, str] = {}
        self.links: list[dict] = []
        self.figcaptions = 0
        self.feed(text)
        self.text = text

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and "memes/" in (attrs.get("src") or ""):
            self.images.append(attrs)
        elif tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content", "")
        elif tag == "a":
            self.links.append(attrs)
        elif tag == "figcaption":
            self.figcaptions += 1


def page_of(site: Path, post: Path) -> Page:
    return Page((site / "series" / post.stem / "index.html").read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    site, cache = root / "site", root / "cache"
    plugin = build_site(ROOT, site, cache)
    return site, cache, plugin


def test_five_posts_with_two_to_four_memes_each(built):
    site, _, plugin = built
    assert len(POSTS) == 5
    total = 0
    for post in POSTS:
        page = page_of(site, post)
        assert 2 <= len(page.images) <= 4, f"{post.name}: {len(page.images)} memes"
        total += len(page.images)
        for index, image in enumerate(page.images):
            assert len(image["alt"].split()) >= 8, f"{post.name}: alt text too thin"
            assert int(image["width"]) > 0 and int(image["height"]) > 0
            assert (image.get("loading") == "lazy") == (index > 0)
            assert (site / "series" / post.stem / image["src"]).resolve().is_file()
            assert re.search(r"-[0-9a-f]{16}\.webp$", image["src"])
        assert "```meme" not in page.text
    assert total >= 14
    assert len(plugin.last_report.rendered) + len(plugin.last_report.reused) >= total


def test_series_navigation(built):
    site, _, _ = built
    for number, post in enumerate(POSTS, start=1):
        page = page_of(site, post)
        assert f"Part {number} of 5" in page.text
        assert re.search(r"Published \d{1,2} (July|August) 2021", page.text)
        rels = {link.get("rel"): link["href"] for link in page.links if link.get("rel")}
        if number > 1:
            assert rels["prev"] == f"../{POSTS[number - 2].stem}/"
        if number < 5:
            assert rels["next"] == f"../{POSTS[number].stem}/"
        assert ("prev" in rels) == (number > 1) and ("next" in rels) == (number < 5)
    part4 = page_of(site, POSTS[3])
    assert any(link.get("href") == "../../lab/" for link in part4.links), "part 4 links the lab"
    index = (site / "series" / "index.html").read_text()
    assert all(f"{post.stem}/" in index for post in POSTS)


def test_open_graph_and_twitter_cards(built):
    site, _, _ = built
    for html in [site / "index.html", *(site / "series" / p.stem / "index.html" for p in POSTS)]:
        page = Page(html.read_text())
        image = page.meta["og:image"]
        assert image.startswith(SITE_URL) and image == page.meta["twitter:image"]
        assert (site / image.removeprefix(SITE_URL)).is_file()
        assert page.meta["twitter:card"] == "summary_large_image"
        assert page.meta["og:title"] and page.meta["og:description"]
    part4 = page_of(site, POSTS[3])
    assert part4.meta["og:image"].endswith(part4.images[0]["src"].split("/")[-1])
    assert part4.meta["og:type"] == "article"


def test_no_fonts_or_scripts_from_elsewhere(built):
    site, _, _ = built
    text = (site / "series" / POSTS[0].stem / "index.html").read_text()
    assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text


def test_a_second_build_renders_nothing(built, tmp_path):
    _, cache, _ = built
    plugin = build_site(ROOT, tmp_path / "site", cache)
    assert plugin.last_report.rendered == []
    assert len(plugin.last_report.reused) >= 14


def test_changing_one_caption_renders_that_meme_alone(project_copy, tmp_path):
    cache = tmp_path / "cache"
    build_site(project_copy, tmp_path / "one", cache)
    post = project_copy / "docs" / "series" / "part-4-push-or-pull.md"
    post.write_text(post.read_text().replace("  - The platform team\n", "  - The SRE team\n"))
    plugin = build_site(project_copy, tmp_path / "two", cache)
    assert len(plugin.last_report.rendered) == 1
    assert plugin.last_report.rendered[0].startswith("push-or-pull-")


PART2 = "docs/series/part-2-kubernetes.md"


def edit(project: Path, path: str, old: str, new: str) -> None:
    target = project / path
    text = target.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


BAD_INPUT = {
    "unknown template": (
        PART2,
        "template: two-buttons",
        "template: three-buttons",
        "unknown template 'three-buttons' (known templates: before-after",
        "template: three",
    ),
    "missing alt": (
        PART2,
        "alt: Two buttons on",
        "# alt: Two buttons on",
        "missing 'alt'",
        "```meme",
    ),
    "caption cannot fit": (
        PART2,
        "  - PodSecurityPolicy\n",
        "  - " + "Pod Security Policy " * 30 + "\n",
        "caption 1 'Pod Security Policy",
        "captions:",
    ),
    "malformed declaration": (
        PART2,
        "captions:\n  - PodSecurityPolicy",
        "captions: [PodSecurityPolicy",
        "not valid YAML",
        None,
    ),
    "path leaving the project": (
        PART2,
        "template: two-buttons",
        "template: ../../../etc/passwd",
        "is a path, which may leave the project",
        "template: ../",
    ),
    "duplicate id": (
        PART2,
        "id: no-observability",
        "id: who-does-what",
        "duplicate meme id 'who-does-what'",
        "id: who-does-what",
    ),
    "a character no font has": (
        PART2,
        "  - PodSecurityPolicy\n",
        "  - PodSecurityPolicy 🚀\n",
        "meme 'pod-security', caption 1 'PodSecurityPolicy 🚀': no font here has '🚀'"
        " (U+1F680 ROCKET)",
        "PodSecurityPolicy 🚀",
    ),
    "a caption with nothing to see": (
        PART2,
        "  - PodSecurityPolicy\n",
        '  - "\\u200b\\u2060"\n',
        "has nothing to see: only spaces, zero-width characters or marks",
        "\\u200b",
    ),
    "box outside its image": (
        "img/templates/prefer/template.yml",
        "x: 0.45, y: 0.04, w: 0.52",
        "x: 0.75, y: 0.04, w: 0.52",
        "lies outside its image",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_a_clear_error_and_writes_nothing(project_copy, tmp_path, case, caplog):
    path, old, new, message, line_needle = BAD_INPUT[case]
    edit(project_copy, path, old, new)
    site, cache = tmp_path / "site", tmp_path / "cache"
    text = build_error(project_copy, site, cache, caplog)
    assert message in text
    assert text.startswith(f"{path}:"), text
    if line_needle:
        lines = (project_copy / path).read_text().splitlines()
        candidates = [i for i, line in enumerate(lines, 1) if line_needle in line]
        assert any(f"{path}:{n}" in text for n in candidates), (text, candidates)
    assert not site.exists(), "nothing may be written to the site"
    assert not cache.exists() or not any(cache.iterdir()), "nothing may be rendered"


def test_template_picture_that_is_not_an_image(project_copy, tmp_path, caplog):
    (project_copy / "img/templates/classic/art.png").write_text("not a picture")
    text = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    assert text.startswith("img/templates/classic/template.yml:3: field 'image'"), text
    assert "not an image Pillow can read" in text and text.count("\n") == 0
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("cache_dir", "../outside", "'../outside' leaves the project"),
        ("cache_dir", "/tmp/memes", "'/tmp/memes' leaves the project"),
        ("templates_dir", "..", "'..' leaves the project"),
        ("output_dir", "../../escape", "'../../escape' must be a folder inside the site"),
        ("output_dir", "/etc", "'/etc' must be a folder inside the site"),
        ("quality", "0", "0 must be from 1 to 100"),
    ],
)
def test_plugin_options_are_checked_before_the_site_is_emptied(
    project_copy, option, value, message
):
    config = project_copy / "mkdocs.yml"
    text = config.read_text()
    assert "  - memes" in text or "- memes:" in text
    text = text.replace("  - memes", f"  - memes:\n      {option}: {value}", 1)
    config.write_text(text)
    site = project_copy / "site"
    site.mkdir()
    (site / "keep.txt").write_text("from an earlier build")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project_copy,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert message in result.stderr + result.stdout, result.stderr[-2000:]
    assert (site / "keep.txt").read_text() == "from an earlier build", "site/ was emptied"


def test_a_damaged_cached_meme_is_rendered_again(built, tmp_path, caplog):
    _, cache, _ = built
    reused = build_site(ROOT, tmp_path / "first", cache).last_report.reused
    damaged = cache / reused[0]
    good = damaged.read_bytes()
    damaged.write_bytes(good[:10])  # cut short, as a full disk or a killed copy would
    with caplog.at_level(logging.INFO, logger="mkdocs"):
        plugin = build_site(ROOT, tmp_path / "site", cache)
    assert plugin.last_report.damaged == [reused[0]]
    assert plugin.last_report.rendered == [reused[0]]
    assert damaged.read_bytes() == good, "rendered again, byte for byte"
    assert any("damaged" in r.getMessage() and reused[0] in r.getMessage() for r in caplog.records)
    published = next((tmp_path / "site").rglob(reused[0]))
    assert published.read_bytes() == good
    with Image.open(published) as image:
        image.load()


def test_a_broken_template_no_post_uses_still_fails_the_build(project_copy, tmp_path, caplog):
    unused = project_copy / "img" / "templates" / "unused"
    unused.mkdir()
    (unused / "template.yml").write_text("image: art.png\nboxes: []\n")
    message = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    assert message.startswith("img/templates/unused/template.yml:"), message
    assert not (tmp_path / "site").exists()


def test_a_published_build_has_canonical_urls_and_the_clone_command(built):
    site, _, _ = built
    home = (site / "index.html").read_text()
    assert "<title>Tell It With a Meme</title>" in home  # the site's name, once
    part4 = (site / "series" / POSTS[3].stem / "index.html").read_text()
    canonical = f"{SITE_URL}series/{POSTS[3].stem}/"
    assert f'<link rel="canonical" href="{canonical}">' in part4
    assert f'<meta property="og:url" content="{canonical}">' in part4
    assert "<title>Part 4: CI/CD, push or pull? - Tell It With a Meme</title>" in part4
    for page in (home, part4, (site / "lab" / "index.html").read_text()):
        assert f"git clone {PUBLISHED['REPO_URL']}\ncd tell-it-with-a-meme\n" in page
        assert "is a placeholder" not in page
    sitemap = (site / "sitemap.xml").read_text()
    assert f"<loc>{canonical}</loc>" in sitemap and "example.org" not in sitemap


def test_a_page_s_own_card_image_wins_over_its_first_meme(project_copy, tmp_path, caplog):
    Image.new("RGB", (1200, 630), "navy").save(project_copy / "docs" / "assets" / "card.png")
    card = "social_image: /assets/card.png\nsocial_image_alt: A navy card drawn for part two\n"
    edit(project_copy, PART2, "part: 2\n", "part: 2\n" + card)
    site = tmp_path / "site"
    build_site(project_copy, site, tmp_path / "cache")
    own = page_of(site, POSTS[1]).meta
    assert own["og:image"] == own["twitter:image"] == f"{SITE_URL}assets/card.png"
    assert own["og:image:alt"] == "A navy card drawn for part two"
    assert (site / "assets" / "card.png").is_file()
    others = page_of(site, POSTS[2]).meta  # the other posts keep their first meme
    assert re.search(r"/memes/.+\.webp$", others["og:image"]), others["og:image"]

    edit(project_copy, PART2, "/assets/card.png", "assets/no-such-card.png")
    message = build_error(project_copy, tmp_path / "bad", tmp_path / "cache", caplog)
    assert f"{PART2.removeprefix('docs/')}: front matter social_image" in message, message
    assert "'assets/no-such-card.png', which is not a file of the site" in message
    assert not (tmp_path / "bad").exists()


def test_a_local_build_names_its_placeholder_and_claims_no_address(tmp_path):
    """Built without the publishing environment: no canonical URL, no card image that could
    not be absolute, and the clone command with a placeholder that says it is one."""
    site = tmp_path / "site"
    build_site(ROOT, site, tmp_path / "cache", env={"SITE_URL": None, "REPO_URL": None})
    for html in sorted(site.rglob("index.html")):
        text = html.read_text()
        assert 'rel="canonical"' not in text and 'property="og:url"' not in text, html
        assert 'property="og:image"' not in text, html
        assert "example.org/" not in text.replace("registry.example.org", ""), html
    home = (site / "index.html").read_text()
    assert "git clone &lt;the project&#x27;s git URL&gt;" in home
    assert "is a placeholder: this copy of the site was built without" in home
    assert "example.org" not in (site / "sitemap.xml").read_text()


def test_each_post_shows_when_its_facts_were_reviewed(built):
    site, _, _ = built
    table = (site / "series" / "index.html").read_text()
    for post in POSTS:
        meta = yaml.safe_load(post.read_text().split("---")[1])
        published = f"{meta['date'].day} {meta['date']:%B %Y}"
        reviewed = f"{meta['reviewed'].day} {meta['reviewed']:%B %Y}"
        page = (site / "series" / post.stem / "index.html").read_text()
        assert f"Published {published}" in page and f"Facts reviewed {reviewed}" in page
        # The series page's table says the same, read from the same front matter.
        row = re.search(rf'<a href="{post.stem}/">.*?</tr>', table, re.S)
        assert row and published in row[0] and reviewed in row[0], post.name


def test_the_glossary_is_one_file_with_tooltips_on_every_page(built):
    from generator.site.glossary import read_terms

    site, _, _ = built
    terms = read_terms((ROOT / "includes" / "abbreviations.md").read_text())
    assert {"kwok", "ls-refs", "drift", "reconcile", "HMAC", "digest", "SSA"} <= {
        t.term for t in terms
    }
    glossary = (site / "glossary" / "index.html").read_text()
    assert all(f">{t.term}</dt>" in glossary for t in terms)
    lab = (site / "lab" / "index.html").read_text()
    assert re.search(r'<abbr title="Kubernetes WithOut Kubelet[^"]*">kwok</abbr>', lab)
    part1 = (site / "series" / POSTS[0].stem / "index.html").read_text()
    assert '<abbr title="The SHA-256 hash' in part1  # "digest", in a post


def test_a_broken_glossary_line_names_its_line():
    from generator.site.glossary import read_terms
    from generator.site.results import ResultFenceError

    with pytest.raises(ResultFenceError, match=r"glossary.md:3: not a term"):
        read_terms("*[a]: one\n\nb means two\n", "glossary.md")
    with pytest.raises(ResultFenceError, match="defined twice: a"):
        read_terms("*[a]: one\n*[a]: two\n", "glossary.md")
