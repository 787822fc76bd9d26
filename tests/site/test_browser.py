"""The built site in headless Chromium: every meme loads, has alt text, and nothing errs.

Screenshots of part 4 (light, dark, phone) land in .artifacts/screenshots for a person to look at.
"""

from __future__ import annotations

import contextlib
import json
import shutil

import pytest
from support.browser import LOAD_MEMES, SHOTS, open_page
from support.helpers import build_error, build_site, need, serve_folder
from support.paths import POSTS, ROOT

pytestmark = pytest.mark.browser


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


HOSTILE = '"><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & \'quotes\''


def test_hostile_text_in_every_field_stays_text(browser, project_copy, tmp_path):
    """Front matter, alt text and caption full of markup: no script runs, and every attribute
    and text reads back exactly as the author wrote it."""
    post = project_copy / "docs" / "series" / "part-4-push-or-pull.md"
    text = post.read_text()
    title = "Part 4: \"push\" & 'pull'"
    text = text.replace('title: "Part 4: CI/CD, push or pull?"', f"title: {json.dumps(title)}", 1)
    description_line = next(line for line in text.splitlines() if line.startswith("description:"))
    text = text.replace(description_line, f"description: {json.dumps('Desc ' + HOSTILE)}", 1)
    alt_line = next(line for line in text.splitlines() if line.startswith("alt: Two buttons"))
    text = text.replace(alt_line, f"alt: {json.dumps('Alt ' + HOSTILE)}", 1)
    caption_line = "caption: Both buttons work. The question is which one fits."
    text = text.replace(caption_line, f"caption: {json.dumps('Caption ' + HOSTILE)}", 1)
    post.write_text(text)
    site = tmp_path / "site"
    build_site(project_copy, site, tmp_path / "cache")
    dialogs: list[str] = []
    with serve_folder(site) as base:
        url = f"{base}/series/part-4-push-or-pull/"
        context, page, _ = open_page(browser, url)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        read = page.evaluate(
            """() => {
              const meta = (selector) => document.querySelector(selector)?.content;
              const figure = document.querySelector('figure.meme');
              return {
                pwned: window.__pwned ?? null,
                injected: document.querySelectorAll('img[src="x"]').length + [
                  ...document.querySelectorAll('script')
                ].filter((s) => s.textContent.includes('__pwned')).length,
                title: document.querySelector('head title').textContent,
                description: meta('meta[name="description"]'),
                og_description: meta('meta[property="og:description"]'),
                og_title: meta('meta[property="og:title"]'),
                og_alt: meta('meta[property="og:image:alt"]'),
                twitter_alt: meta('meta[name="twitter:image:alt"]'),
                alt: figure.querySelector('img').alt,
                caption: figure.querySelector('figcaption').textContent,
              };
            }"""
        )
        context.close()
    assert read["pwned"] is None and dialogs == [], "a script from the post ran"
    assert read["injected"] == 0, "markup from the post became elements"
    assert read["title"] == f"{title} - Tell It With a Meme"
    assert read["og_title"] == read["title"]
    assert read["description"] == read["og_description"] == "Desc " + HOSTILE
    assert read["alt"] == read["og_alt"] == read["twitter_alt"] == "Alt " + HOSTILE
    assert read["caption"] == "Caption " + HOSTILE


def test_markup_in_a_title_is_refused_before_anything_is_written(project_copy, tmp_path, caplog):
    post = project_copy / "docs" / "series" / "part-4-push-or-pull.md"
    text = post.read_text().replace(
        'title: "Part 4: CI/CD, push or pull?"', 'title: "Part 4 <img src=x onerror=alert(1)>"', 1
    )
    post.write_text(text)
    message = build_error(project_copy, tmp_path / "site", tmp_path / "cache", caplog)
    assert "docs/series/part-4-push-or-pull.md: field 'title'" in message
    assert "plain text" in message
    assert not (tmp_path / "site").exists()


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What this project adds to Material's pages is inside .md-content: its text, memes and series
# blocks. Material's own frame is left to Material: its search dialog has no accessible name
# (aria-dialog-name), which only a copy of its search partial could add.
RUN_AXE = """async (scope) => {
  const content = await axe.run({include: [scope]}, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  });
  return content.violations.map((v) => ({
    id: v.id, impact: v.impact,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
}"""


def site_pages() -> list[str]:
    pages = ["", "series/", "lab/", "lab/run/", "lab/agent/", "workshop/", "tags/"]
    return pages + [f"{kind}series/{post.stem}/" for post in POSTS for kind in ("", "slides/")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_in_what_the_project_adds(browser, served_site, scheme):
    """axe-core (WCAG 2.1 A and AA), from its npm package, over every page in both schemes,
    on what the project adds: any serious or critical violation fails."""
    need(AXE.is_file(), "axe-core from npm (make test runs `npm ci` for it)")
    found = []
    for path in site_pages():
        context, page, _ = open_page(browser, f"{served_site}/{path}", color_scheme=scheme)
        try:
            page.add_script_tag(path=str(AXE))
            scope = "body" if path.startswith("slides/") else ".md-content"  # decks: all ours
            for violation in page.evaluate(RUN_AXE, scope):
                if violation["impact"] in ("serious", "critical"):
                    found.append((path or "/", violation["id"], violation["targets"][:3]))
        finally:
            context.close()
    assert found == [], found


CALCULATOR_CASES = [
    # fleet, interval, refs, agent, deploys at once (None: the lab's own), where the apply and
    # push times were measured
    (1000, 60, 100, "ours", 10, "kind"),
    (10000, 5, 1000, "flux", None, "kwok"),
    (3, 15, 1, "ours", None, "kind"),
    (70, 60, 1, "flux", 25, "kind"),
]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_lab_page_draws_every_chart_and_its_calculator_answers(browser, served_site, width):
    """No console error, every result drawn as an inline chart with its alt text, and the
    calculator giving the Python model's answers (the same inputs, read from the page), each
    answer inside its box, at a phone's width and a desktop's."""
    import math

    from generator.site import scaling

    context, page, problems = open_page(
        browser, f"{served_site}/lab/", viewport={"width": width, "height": 900}
    )
    try:
        figures = page.locator("figure.lab-result")
        source = (ROOT / "docs" / "lab" / "index.md").read_text()
        fences = source.count("```lab-result") - source.count("part: numbers")
        assert figures.count() == fences
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        for index in range(fences):
            shown = figures.nth(index).locator(".lab-chart:visible")
            assert shown.count() == 1
            svg = shown.locator("svg[role=img]")
            if svg.count() == 0:  # on a phone, the credentials grid is a table
                assert width < 720 and shown.locator("table tr").count() >= 3
                continue
            assert svg.get_attribute("aria-label")
            box = svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 80  # drawn, not empty
        models = json.loads(page.locator("script.scaling-inputs").text_content())
        assert set(models) == {"kind", "kwok"}
        for fleet, interval, refs, agent, parallel, provider in CALCULATOR_CASES:
            inputs = scaling.Inputs(**models[provider])
            assert inputs.provider == provider
            page.fill("input[name=fleet]", str(fleet))
            page.fill("input[name=interval]", str(interval))
            page.fill("input[name=refs]", str(refs))
            page.fill("input[name=parallel]", str(parallel or models["kind"]["parallel"]))
            page.select_option("select[name=agent]", agent)
            page.select_option("select[name=provider]", provider)
            shown = {
                item.get_attribute("data-key"): float(item.get_attribute("data-value"))
                for item in page.locator("output[name=result] dd").all()
            }
            expected = scaling.predict(inputs, fleet, interval, refs, agent, parallel)
            for key, value in shown.items():
                assert math.isclose(value, getattr(expected, key), rel_tol=1e-9), (key, fleet)
            assert len(shown) == 6
            fits = page.evaluate(
                "() => [...document.querySelectorAll('output[name=result] dd, output[name=result]"
                " dt')].every(e => e.scrollWidth <= e.clientWidth + 1"
                " && e.getBoundingClientRect().right <= document.documentElement.clientWidth)"
            )
            assert fits, f"an answer runs out of its box at {width} px"
        answer = page.locator("output[name=result]")
        for typed, said in (("-5", "Clusters: a whole number from 1 to 1,000,000"),
                            ("2.5", "Clusters: a whole number from 1 to 1,000,000")):  # fmt: skip
            page.fill("input[name=fleet]", typed)
            assert answer.get_attribute("data-state") == "error"
            assert said in answer.text_content()
        page.fill("input[name=fleet]", "30")
        page.fill("input[name=parallel]", "7.5")
        assert "Push deploys to: a whole number" in answer.text_content()
        # Push to a fleet is not one flat time: more clusters at the lab's pace take longer.
        page.fill("input[name=parallel]", str(models["kind"]["parallel"]))
        page.select_option("select[name=provider]", "kind")
        times = []
        for fleet in (3, 300):
            page.fill("input[name=fleet]", str(fleet))
            times.append(
                float(page.locator("dd[data-key=push_seconds]").get_attribute("data-value"))
            )
        assert times[1] > 10 * times[0], times
        page.wait_for_load_state("networkidle")
        assert problems == [], problems
    finally:
        context.close()


def test_the_recorded_run_replays_in_the_page(browser, served_site):
    """The player loads the lab's own recording from the site, opens on how the run ended,
    plays from the start when asked, and seeks; with no console error."""
    context, page, problems = open_page(browser, f"{served_site}/lab/")
    try:
        page.wait_for_selector(".terminal-player[data-ready=true]", timeout=10_000)
        player = page.locator(".terminal-player")
        screen = page.locator(".terminal-screen")
        assert "What happened" in screen.text_content()  # the end of the run
        page.fill(".terminal-player input[type=range]", "0")
        assert "What happened" not in screen.text_content()
        page.select_option(".terminal-player select", "4")
        page.click(".terminal-player [data-action=play]")
        page.wait_for_function(
            "() => Number(document.querySelector('.terminal-player').dataset.position) > 2"
        )
        assert player.get_attribute("data-state") == "playing"
        assert "kwok" in screen.text_content()
        page.click(".terminal-player [data-action=play]")
        assert player.get_attribute("data-state") == "paused"
        assert screen.locator("a, img, script").count() == 0  # text only, never markup
        assert problems == [], problems
    finally:
        context.close()


HEADER = '{"version": 2, "width": 80, "height": 24}\n'
HOSTILE_CASTS = {  # what a recording can hold, and what the player must make of it
    "a cursor moved ten million columns": (HEADER + '[0.5, "o", "go\\u001b[10000000Cend"]\n', None),
    "a cursor moved ten million rows": (HEADER + '[0.5, "o", "go\\u001b[10000000Bend"]\n', None),
    "a line far wider than the screen": (HEADER + '[0.5, "o", "' + "x" * 5000 + '"]\n', None),
    "a header ten million columns wide": (
        '{"version": 2, "width": 10000000, "height": 24}\n',
        "its width and height must be whole numbers",
    ),
    "an event that is not JSON": (
        HEADER + '[0.5, "o", "fine"]\n[1.0, "o", oops\n',
        "line 3 is not JSON",
    ),
    "events out of order": (
        HEADER + '[2, "o", "a"]\n[1, "o", "b"]\n',
        "line 3 is not an event [seconds, kind, data] in order",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CASTS))
def test_the_player_clamps_what_a_recording_asks_and_says_what_it_cannot_show(
    browser, served_site, case
):
    """The page's player given a hostile recording (swapped in for the lab's own): it draws
    within its screen, or says why it cannot, and the page stays responsive."""
    cast, refusal = HOSTILE_CASTS[case]
    context = browser.new_context()
    page = context.new_page()
    page.route("**/recordings/demo-kwok.cast", lambda route: route.fulfill(body=cast))
    try:
        page.goto(f"{served_site}/lab/", wait_until="load")
        page.wait_for_selector(".terminal-player:is([data-ready=true], [data-ready=error])")
        screen = page.locator(".terminal-screen").text_content()
        state = page.locator(".terminal-player").get_attribute("data-ready")
        if refusal is None:
            assert state == "true", screen
            widths = [len(line) for line in screen.split("\n")]
            assert max(widths) <= 80, max(widths)  # every cell within the screen's columns
            # Down moves stop at the screen's last row; a wide line wraps (5000 / 80 lines).
            assert len(widths) <= (63 if "wider" in case else 24), len(widths)
            assert screen.replace("\n", "").rstrip().endswith("end") or "wider" in case
        else:
            assert state == "error"
            assert refusal in screen, screen
        assert page.evaluate("() => 1 + 1") == 2  # the page answers: nothing still spins
    finally:
        context.close()


@pytest.mark.parametrize("post", POSTS, ids=lambda p: p.stem)
def test_every_deck_navigates_by_keyboard_and_prints_one_page_per_slide(
    browser, served_site, post, tmp_path
):
    """A projector's size: arrows and End move, N shows the notes, every meme loads, and
    Chromium prints the deck as one 1280 x 720 page per slide."""
    import re

    memes = post.read_text().count("```meme")
    url = f"{served_site}/slides/series/{post.stem}/"
    context, page, problems = open_page(browser, url, viewport={"width": 1280, "height": 720})
    try:
        count = page.locator(".deck-controls__count")
        assert count.text_content() == f"1 / {memes + 1}"
        page.keyboard.press("ArrowRight")
        assert count.text_content() == f"2 / {memes + 1}" and page.url.endswith("#slide-2")
        image = page.locator(".slide.is-current img")
        assert image.evaluate("i => i.decode().then(() => i.naturalWidth)") > 0
        box = image.bounding_box()
        assert box["height"] > 400, "the meme is large on a 1280 x 720 screen"
        assert not page.locator(".slide.is-current .slide__notes").is_visible()
        page.keyboard.press("n")
        assert page.locator(".slide.is-current .slide__notes").is_visible()
        page.keyboard.press("End")
        assert count.text_content() == f"{memes + 1} / {memes + 1}"
        page.keyboard.press("ArrowRight")  # stays on the last slide
        assert count.text_content() == f"{memes + 1} / {memes + 1}"
        for index in range(memes):  # every meme loaded before printing
            page.goto(f"{url}#slide-{index + 2}")
            page.locator(".slide.is-current img").evaluate("i => i.decode()")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (tmp_path / "deck.pdf").write_bytes(pdf)
        pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
        assert len(pages) == memes + 1
        sizes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
        assert sizes == {(b"960", b"540")}, sizes  # 1280 x 720 CSS pixels, in points
        assert problems == [], problems
    finally:
        context.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("minions", "part-2-kubernetes"), ("masters", "part-2-kubernetes"),
     ("IfNotPresent", "part-1-containers"), ("ls-refs", "lab")],
)  # fmt: skip
def test_search_finds_words_in_quotes_and_code(browser, served_site, query, expected):
    """Words the posts only quote ("minions") or show as code are found like any other."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context, page, problems = open_page(browser, f"{served_site}/")
    try:
        # The search worker builds its index first ("Initializing search"): on a busy machine
        # (the kind lab starts beside these tests) that takes a while.
        page.wait_for_function(
            "() => { const m = document.querySelector('.md-search-result__meta');"
            " return m && !/Initializing/.test(m.textContent); }",
            timeout=120_000,
        )
        box = page.locator("input[data-md-component=search-query]")
        box.focus()
        box.press_sequentially(query)  # typed, as a reader types: Material searches on keys
        results = page.locator(".md-search-result__item a")
        # Results come as each key is typed: those of "l" can show before those of "ls-refs".
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                "expected => [...document.querySelectorAll('.md-search-result__item a')]"
                ".some(a => (a.getAttribute('href') || '').includes(expected))",
                arg=expected, timeout=60_000,
            )  # fmt: skip
        # At once: the list is drawn again as results come, and an item read one by one may
        # be gone by the time it is asked for.
        hrefs = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert any(expected in (href or "") for href in hrefs), (query, hrefs)
        assert problems == [], problems
    finally:
        context.close()


def test_numbers_and_the_lab_box_read_on_a_phone(browser, served_site):
    """On a phone's width, nothing on part 4 or the lab page scrolls sideways, and a number
    from the lab is a link that says where it came from."""
    for path in ("series/part-4-push-or-pull/", "lab/"):
        context, page, problems = open_page(
            browser, f"{served_site}/{path}", viewport={"width": 390, "height": 844}
        )
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            number = page.locator('a.lab-number[href$=".json"]').first
            assert number.get_attribute("title") and number.get_attribute("href").endswith(".json")
            box = page.locator(".get-the-lab pre").first.bounding_box()
            assert box and box["width"] <= 390
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"phone-{path.strip('/').replace('/', '-')}.png"),
                            full_page=False)  # fmt: skip
            assert problems == [], problems
        finally:
            context.close()
