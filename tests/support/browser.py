"""Chromium for the browser tests: the built site, served on loopback, and a page opener that
collects console errors. The fixtures are the session's (conftest.py), so the site is built once
for every module that looks at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.helpers import build_site, need, serve_folder
from support.paths import ROOT

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


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built as published."""
    root = tmp_path_factory.mktemp("browser")
    build_site(ROOT, root / "site", root / "cache")
    return root / "site"


@pytest.fixture(scope="session")
def served_site(built_site):
    """The built site, served on 127.0.0.1 for as long as the tests need it."""
    with serve_folder(built_site) as base:
        yield base


@pytest.fixture(scope="session")
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
