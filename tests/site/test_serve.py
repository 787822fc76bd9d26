"""Live preview: `mkdocs serve` re-renders an edited meme and writes nothing to docs/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PART4 = "docs/series/part-4-push-or-pull.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except OSError:
        return 0, b""


def wait_for(condition, what: str, deadline: float = 60.0):
    """Poll until `condition()` is truthy; this is a deadline for waiting, not a timing test."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}")


def meme_src(html: bytes, meme_id: str) -> str | None:
    found = re.search(rf'src="([^"]*/{meme_id}-[0-9a-f]{{16}}\.webp)"', html.decode())
    return found.group(1) if found else None


def test_serve_rebuilds_an_edited_meme(project_copy: Path, tmp_path: Path):
    port = free_port()
    docs_before = sorted(p.relative_to(project_copy) for p in (project_copy / "docs").rglob("*"))
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "serve",
            "--strict",
            "--livereload",
            "--dev-addr",
            f"127.0.0.1:{port}",
        ],
        cwd=project_copy,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    page = f"http://127.0.0.1:{port}/series/part-4-push-or-pull/"
    try:
        first = wait_for(lambda: meme_src(fetch(page)[1], "push-or-pull"), "the first build")
        post = project_copy / PART4
        post.write_text(post.read_text().replace("  - The platform team\n", "  - The SRE team\n"))
        second = wait_for(
            lambda: (src := meme_src(fetch(page)[1], "push-or-pull")) != first and src,
            "the rebuild after an edit",
        )
        status, body = fetch(page.rstrip("/") + "/" + second)
        assert status == 200 and body[8:12] == b"WEBP"
        log.seek(0)
        output = log.read()
        assert re.search(r"memes: 1 rendered, \d+ from the cache", output), output
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    docs_after = sorted(p.relative_to(project_copy) for p in (project_copy / "docs").rglob("*"))
    assert docs_after == docs_before, "serve must not write into docs/"
