"""The session's fixtures and its order: throwaway templates, a copy of the site, a lab state
of each test's own, the kind lab and the browser. What tests import lives in `support`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from support.kind_lab import KIND_LAB
from support.paths import ROOT


@pytest.fixture
def make_template(tmp_path: Path):
    """Write a template folder with plain one-colour art, for pixel-exact layout checks."""

    def make(name: str, boxes: list[dict], size=(1200, 800), colour="#808080", config=None):
        folder = tmp_path / "templates" / name
        folder.mkdir(parents=True)
        Image.new("RGB", size, colour).save(folder / "art.png")
        lines = ["image: art.png", "boxes:"]
        for box in boxes:
            lines.append("  - {" + ", ".join(f"{k}: {v}" for k, v in box.items()) + "}")
        (folder / "template.yml").write_text(config or "\n".join(lines) + "\n")
        return folder

    return make


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the site's sources, for builds that edit posts or templates."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    for folder in ("docs", "overrides", "img/templates", "includes"):
        shutil.copytree(ROOT / folder, copy / folder)
    return copy


@pytest.fixture
def lab_state(tmp_path: Path, monkeypatch) -> Path:
    """A lab state folder of this test's own; whatever the test leaves running is torn down."""
    state = tmp_path / "lab"
    monkeypatch.setenv("TELLIT_LAB_STATE", str(state))
    yield state
    from support.lab import lab_at

    from demo.lab.teardown import down

    assert down(lab_at(state)) == [], "the lab left something behind"


@pytest.fixture
def lab_context(lab_state: Path):
    """The lab context of this test's own lab state (`lab_state`)."""
    from support.lab import lab_at

    return lab_at(lab_state)


# The kind lab: started in the background at collection (support/kind_lab.py says why and how
# the session is ordered around it), waited for by the `kind` tests, torn down at the end.


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected: start it only when needed
def pytest_collection_modifyitems(session, config, items):
    def group(item) -> float:
        if item.get_closest_marker("kind"):
            # A kind benchmark makes clusters of its own: after the kind lab is down.
            return 1.5 if item.get_closest_marker("bench") else 1
        if item.get_closest_marker("provisioned") and not item.get_closest_marker("browser"):
            return 2
        return 0

    items.sort(key=group)  # stable: each group keeps its own order
    if any(group(item) == 1 for item in items) and not config.option.collectonly:
        from support.kind_lab import KindLab
        from support.lab import docker_ready

        if docker_ready():
            config.stash[KIND_LAB] = KindLab.start()


def pytest_sessionfinish(session):
    lab = session.config.stash.get(KIND_LAB, None)
    if lab is not None:
        from demo.lab.teardown import down

        lab.stop()
        from support.lab import lab_at

        down(lab_at(lab.state))  # a no-op when its tests took it down


# The browser tests' fixtures (Chromium, the built site served on loopback), shared by every
# module that opens a page.
from support.browser import browser, built_site, served_site  # noqa: E402, F401
