"""Building the site from tests through MkDocs' own API, with a cache and output of our own."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort


def build_site(project: Path, site_dir: Path, cache_dir: Path):
    """A strict build of `project`; returns the memes plugin so tests can read its report."""
    config = load_config(
        config_file=str(project / "mkdocs.yml"), site_dir=str(site_dir), strict=True
    )
    plugin = config.plugins["memes"]
    plugin.config.cache_dir = str(cache_dir)
    build(config)
    return plugin


def build_error(project: Path, site_dir: Path, cache_dir: Path, caplog) -> str:
    """Build `project`, expecting MkDocs to abort; the error it logged for the author."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="mkdocs"), pytest.raises(Abort):
        build_site(project, site_dir, cache_dir)
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
