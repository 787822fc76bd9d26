"""The built site in headless Chromium: every meme loads, has alt text, and nothing errs.

Screenshots of part 4 (light, dark, phone) land in .artifacts/screenshots for a person to look at.
"""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import POSTS, ROOT, need
from helpers import build_site

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = ROOT / ".artifacts" / "screenshots"

LOAD_MEMES = """
async () => {
  const images = [...document.querySelectorAll('figure.meme img')];
  const results = [];
  for (const image of images) {
    image.scrollIntoView();
    try { await image.decode(); } catch (error) { /* reported by naturalWidth below */ }
    results.push({src: image.currentSrc, alt: image.alt, width: image.naturalWidth,
                  lazy: image.loading === 'lazy'});
  }
  window.scrollTo(0, 0);
  return results;
}
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output readable
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """The real site, built and served on 127.0.0.1 for as long as the tests need it."""
    root = tmp_path_factory.mktemp("browser")
    build_site(ROOT, root / "site", root / "cache")
    handler = functools.partial(QuietHandler, directory=str(root / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev lock installs it
        need(False, "Playwright for Python (make test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
    page.goto(url, wait_until="load")
    return context, page, problems


@pytest.mark.parametrize("post", POSTS, ids=lambda p: p.stem)
def test_every_meme_loads_with_alt_text_and_no_console_errors(browser, served_site, post):
    context, page, problems = open_page(browser, f"{served_site}/series/{post.stem}/")
    try:
        memes = page.evaluate(LOAD_MEMES)
        assert 2 <= len(memes) <= 4
        for index, meme in enumerate(memes):
            assert meme["width"] > 0, f"{meme['src']} did not load"
            assert meme["alt"].strip(), f"{meme['src']} has no alt text"
            assert meme["lazy"] == (index > 0)
        page.wait_for_load_state("networkidle")
        assert problems == [], problems
    finally:
        context.close()


def test_screenshots_of_part_four(browser, served_site):
    part4 = next(p for p in POSTS if p.stem.startswith("part-4"))
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    views = {
        "light": {"color_scheme": "light", "viewport": {"width": 1280, "height": 900}},
        "dark": {"color_scheme": "dark", "viewport": {"width": 1280, "height": 900}},
        "phone": {
            "color_scheme": "light",
            "viewport": {"width": 400, "height": 860},
            "device_scale_factor": 2,
            "is_mobile": True,
        },
    }
    for name, options in views.items():
        context, page, problems = open_page(
            browser, f"{served_site}/series/{part4.stem}/", **options
        )
        try:
            page.evaluate(LOAD_MEMES)
            scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            assert scheme == ("slate" if name == "dark" else "default")
            path = SHOTS / f"part-4-{name}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 20_000
            assert problems == [], problems
        finally:
            context.close()
