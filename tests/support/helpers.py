"""What tests share: parts they need, servers on loopback, and building the site through
MkDocs' own API with a cache and output of their own."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import textwrap
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

# Where a published build is served and cloned from, as the Pages workflow sets them.
PUBLISHED = {
    "SITE_URL": "https://readers.test/tell-it-with-a-meme/",
    "REPO_URL": "https://git.test/team/tell-it-with-a-meme.git",
}


@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """os.environ with `values` set (None: unset) for the `with` block, then as it was."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_site(project: Path, site_dir: Path, cache_dir: Path, env: dict | None = None):
    """A strict build of `project`, as published (PUBLISHED) unless `env` says otherwise;
    returns the memes plugin so tests can read its report."""
    with environment(PUBLISHED if env is None else env):
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


def need(available: bool, what: str) -> None:
    """Skip when a part is missing on a reader's machine; under CI=true, fail instead."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide {what}, but it is missing")
    pytest.skip(f"needs {what}")


@contextlib.contextmanager
def loopback_server(handler) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 for the `with` block; its base URL. It stops by
    itself when the block ends, whatever happens in it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output readable
        pass


def serve_folder(folder: Path):
    """`loopback_server` serving the files of `folder`."""
    return loopback_server(functools.partial(QuietFiles, directory=str(folder)))


MEME = """\
```meme
id: {id}
template: prefer
captions:
  - A meme at the top of the page
  - A meme {where}
alt: A figure waves away a plain meme and points at one {where}.
```
"""

NESTED_POST = """\
# Nested memes

!!! tip "A meme in an admonition"

{admonition}

- A list item with a meme under it:

{listed}

=== "First tab"

    Some text.

=== "Second tab"

{tabbed}

> A quoted meme:
>
{quoted}

````markdown
{example}
````
"""


def nested_post() -> str:
    """A page with a meme in an admonition, a list item, a content tab and a quote, and one
    shown as an example inside a code block."""

    def block(meme_id: str, where: str, indent: str) -> str:
        return textwrap.indent(MEME.format(id=meme_id, where=where), indent).rstrip("\n")

    return NESTED_POST.format(
        admonition=block("boxed", "in an admonition", "    "),
        listed=block("listed", "in a list item", "    "),
        tabbed=block("tabbed", "in a content tab", "    "),
        quoted=block("quoted", "in a quote", "> "),
        example=block("example", "shown as an example", ""),
    )
