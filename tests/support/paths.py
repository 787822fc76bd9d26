"""The project's folders, as the tests find them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "img" / "templates"
POSTS = sorted((ROOT / "docs" / "series").glob("part-*.md"))
