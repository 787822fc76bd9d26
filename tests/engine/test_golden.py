"""Golden renders: one fixed meme per template, its bytes' SHA-256 recorded with the renderer
version. Pixels that change without a version bump would leave stale files in every reader's
cache (names hash the inputs and the version, not the output), so they fail here.

After a deliberate change: bump RENDERER_VERSION in generator/__init__.py, then
`GOLDEN_UPDATE=1 .venv/bin/pytest tests/engine/test_golden.py` rewrites
tests/engine/golden_renders.json.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from support.paths import TEMPLATES

from generator import RENDERER_VERSION
from generator.declarations import MemeSpec
from generator.pipeline import plan_meme, render_bytes
from generator.render import Encoding
from generator.templates import TemplateLibrary

GOLDEN = Path(__file__).with_name("golden_renders.json")
CAPTIONS = ("One", "Two", "Three", "Four", "Five", "Six")
# Text that raqm shapes and the fallback font sets, on one template each.
SCRIPTS = {
    "prefer:hebrew": ("שלום עולם", "מימין לשמאל"),
    "prefer:arabic": ("مرحبا بالعالم", "النص العربي موصول"),
    "prefer:japanese": ("プッシュかプルか", "エージェントが変更を取りに行く"),
    "prefer:mixed": ("Push と Pull", "GitOps エージェント"),
}


def digests() -> dict[str, str]:
    library = TemplateLibrary(TEMPLATES)
    found = {}
    for name in library.names():
        template = library.get(name)
        captions = CAPTIONS[: len(template.boxes)]
        spec = MemeSpec("golden", 1, 1, "golden", name, captions, "a golden render")
        data = render_bytes(plan_meme(spec, library, Encoding()))
        found[name] = hashlib.sha256(data).hexdigest()
    for name, captions in SCRIPTS.items():
        spec = MemeSpec("golden", 1, 1, "golden", name.split(":")[0], captions, "a golden render")
        data = render_bytes(plan_meme(spec, library, Encoding()))
        found[name] = hashlib.sha256(data).hexdigest()
    return found


def test_renders_match_their_golden_digests():
    found = digests()
    if os.environ.get("GOLDEN_UPDATE") == "1":
        record = {"renderer": RENDERER_VERSION, "digests": found}
        GOLDEN.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        pytest.skip("golden digests rewritten; commit tests/engine/golden_renders.json")
    golden = json.loads(GOLDEN.read_text())
    assert golden["renderer"] == RENDERER_VERSION, (
        "RENDERER_VERSION changed: rewrite the digests (see this module's docstring)"
    )
    changed = sorted(name for name in found if golden["digests"].get(name) != found[name])
    assert not changed, (
        f"the pixels of {', '.join(changed)} changed: if the engine draws differently, bump"
        " RENDERER_VERSION in generator/__init__.py (template art is hashed already); then"
        " rewrite the digests"
    )
    assert set(golden["digests"]) == set(found), "a template was added or removed"
