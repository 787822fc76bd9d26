"""Layouts kept between builds: a rebuild with nothing changed fits no caption, and a damaged
plans file costs a re-plan, never a wrong picture."""

from __future__ import annotations

import json

import pytest
from support.helpers import build_site
from support.paths import ROOT

from generator import pipeline
from generator.plans import PLANS_FILE


def _no_fitting(*args, **kwargs):
    raise AssertionError("a caption was fitted although its layout was kept")


def test_a_rebuild_with_nothing_changed_fits_no_caption(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = build_site(ROOT, tmp_path / "one", cache)
    plans = json.loads((cache / PLANS_FILE).read_text())
    memes = [m for page in first.planned.values() for m in page]
    assert len(plans["plans"]) == len({m.file_name for m in memes}) >= 17
    monkeypatch.setattr(pipeline, "fit_captions", _no_fitting)
    again = build_site(ROOT, tmp_path / "two", cache)
    assert [m.file_name for p in again.planned.values() for m in p] == [m.file_name for m in memes]
    assert again.last_report.rendered == []


def test_a_changed_caption_is_planned_again_and_its_old_layout_dropped(project_copy, tmp_path):
    cache = tmp_path / "cache"
    build_site(project_copy, tmp_path / "one", cache)
    before = set(json.loads((cache / PLANS_FILE).read_text())["plans"])
    post = project_copy / "docs" / "series" / "part-4-push-or-pull.md"
    post.write_text(post.read_text().replace("  - The platform team\n", "  - The SRE team\n"))
    build_site(project_copy, tmp_path / "two", cache)
    after = set(json.loads((cache / PLANS_FILE).read_text())["plans"])
    assert len(after - before) == 1 and len(before - after) == 1


def test_a_kept_layout_is_checked_again_when_a_keep_clear_region_moves(
    project_copy, tmp_path, caplog
):
    """A kept plan skips the keep-clear check (it passed when the plan was kept), so a region
    that moves must make the plan a new one, checked again."""
    from support.helpers import build_error

    cache = tmp_path / "cache"
    build_site(project_copy, tmp_path / "one", cache)
    config = project_copy / "img" / "templates" / "prefer" / "template.yml"
    text = config.read_text()
    old = "{name: refusing, x: 0.04, y: 0.08, w: 0.38, h: 0.42}"
    assert old in text
    config.write_text(text.replace(old, "{name: refusing, x: 0.44, y: 0.04, w: 0.5, h: 0.42}"))
    message = build_error(project_copy, tmp_path / "two", cache, caplog)
    assert "covers 'refusing' of template 'prefer'" in message, message


@pytest.mark.parametrize(
    "damage",
    [
        b"{ not json",
        b'{"schema": 1, "plans": {"x": 1}, "arts": {"y": "z"}}',
        "tamper",
    ],
    ids=["not JSON", "wrong shapes", "an entry's layout altered"],
)
def test_a_damaged_plans_file_is_planned_afresh(tmp_path, damage):
    cache = tmp_path / "cache"
    first = build_site(ROOT, tmp_path / "one", cache)
    path = cache / PLANS_FILE
    if damage == "tamper":
        data = json.loads(path.read_text())
        for entry in data["plans"].values():
            entry["captions"][0]["lines"] = "not lines"
        path.write_text(json.dumps(data))
    else:
        path.write_bytes(damage)
    again = build_site(ROOT, tmp_path / "two", cache)
    names = [m.file_name for p in again.planned.values() for m in p]
    assert names == [m.file_name for p in first.planned.values() for m in p]
    assert json.loads(path.read_text())["schema"] == 1, "rewritten whole"
