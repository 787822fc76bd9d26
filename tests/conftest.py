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


# Parallel runs (`make test` passes `-n` and `--dist loadgroup` to pytest-xdist): tests that
# share an expensive fixture of module or session scope run on one worker, so it is made once;
# the kind tests run on one worker, in order (the kind lab, then clusters of their own); every
# other test is a unit of its own. Each lab test has a lab state of its own, so lab tests run
# beside each other and beside the kind lab.


def xdist_group(item: pytest.Item) -> str | None:
    """The worker group of `item`: "kind", a module's path, a shared fixture's name, or None."""
    if item.get_closest_marker("kind"):
        return "kind"
    shared = {}
    info = getattr(item, "_fixtureinfo", None)  # what pytest resolved; no public accessor
    for name, definitions in info.name2fixturedefs.items() if info else ():
        ours = definitions[-1].func.__module__.startswith(("support.", "test", "conftest"))
        if ours and definitions[-1].scope in ("module", "session"):
            shared[name] = definitions[-1].scope
    if "module" in shared.values():
        return item.nodeid.split("::")[0]
    return min((name for name, scope in shared.items() if scope == "session"), default=None)


def pytest_itemcollected(item):
    """Groups are marked as each test is collected: before xdist writes them into test ids.
    (A worker's own `dist` is "no"; `loadgroup` is what xdist hands its workers.)"""
    if item.config.getoption("loadgroup", False):
        group = xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def in_parallel(config) -> bool:
    """Whether this is a worker of a parallel run (each collects the whole session)."""
    return hasattr(config, "workerinput")


# The kind lab: in a serial run, started in the background at collection (support/kind_lab.py
# says why and how the session is ordered around it), waited for by the `kind` tests, torn down
# at the end. In a parallel run the kind worker starts it with its first kind test, which comes
# first: the other workers are the overlap.


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected: start it only when needed
def pytest_collection_modifyitems(session, config, items):
    parallel = in_parallel(config)

    def group(item) -> float:
        if item.get_closest_marker("kind"):
            # A kind benchmark makes clusters of its own: after the kind lab is down.
            return 1.5 if item.get_closest_marker("bench") else 1
        if item.get_closest_marker("provisioned") and not item.get_closest_marker("browser"):
            return 2
        return 3 if parallel else 0  # in parallel the longest chains are handed out first

    items.sort(key=group)  # stable: each group keeps its own order
    if parallel or config.option.collectonly:
        return
    if any("kind_lab" in item.fixturenames for item in items):  # the kind lab's own tests
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
