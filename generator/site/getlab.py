"""The `get-the-lab` fence of pymdownx.superfences: how to get the lab, exactly as typed.

    ```get-the-lab
    run: make demo PROVIDER=kind        # or a list of commands
    ```

prints the clone command, the `cd` into the clone, then the page's own commands, as a reader
types them in a fresh clone (where `.venv` does not exist until a `make` target makes it).
The repository's address comes from the environment that publishes the site (REPO_URL, which
the Pages workflow sets from the repository it runs in), read when the site is built, so both
builders print the same box. Built without it, the box shows a placeholder and says so,
rather than an address that is somebody else's.
"""

from __future__ import annotations

import html
import os
import re

from .fences import loud
from .results import ResultFenceError, fence_yaml

REPO_ENV = "REPO_URL"
PLACEHOLDER = "<the project's git URL>"
DEFAULT_FOLDER = "tell-it-with-a-meme"
COMMAND = re.compile(r"(make|\.venv/bin/python -m demo)( [A-Za-z0-9_./=:-]+)*")


def repo_url() -> str | None:
    """The repository readers clone, when the build was told it (an https or ssh address)."""
    value = os.environ.get(REPO_ENV, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"(https://|git@|ssh://)[A-Za-z0-9@._:/~+-]+", value) or len(value) > 300:
        raise ResultFenceError(
            f"{REPO_ENV}={value[:60]!r} is not a repository address: give an https:// or ssh"
            " address, or leave it unset for a placeholder"
        )
    return value


def folder_of(url: str | None) -> str:
    if not url:
        return DEFAULT_FOLDER
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    return name or DEFAULT_FOLDER


def parse_fence(src: str) -> list[str]:
    """The page's commands; ResultFenceError saying what to write otherwise."""
    spec = fence_yaml(src, "get-the-lab")
    if not isinstance(spec, dict) or set(spec) != {"run"}:
        raise ResultFenceError(
            "a get-the-lab fence takes `run:` only: the command (or list of commands) a reader"
            " types after cloning, such as `run: make demo PROVIDER=kind`"
        )
    run = spec["run"]
    commands = [run] if isinstance(run, str) else run
    if (
        not isinstance(commands, list)
        or not commands
        or not all(isinstance(c, str) and COMMAND.fullmatch(c) for c in commands)
    ):
        raise ResultFenceError(
            "a get-the-lab fence runs `make TARGET [VAR=value]` or `.venv/bin/python -m demo"
            f" ...` commands, as typed in a fresh clone; got {str(run)[:80]!r}"
        )
    return commands


def commands(run: list[str], url: str | None) -> list[str]:
    """Everything a reader types, from nothing to the page's own commands."""
    needs_lab = any(c.startswith(".venv/") for c in run) and not any(
        c.startswith("make ") for c in run
    )
    setup = ["make provision"] if needs_lab else []
    return [f"git clone {url or PLACEHOLDER}", f"cd {folder_of(url)}", *setup, *run]


@loud("get-the-lab")
def format_get_the_lab(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter: the box, every value escaped."""
    url = repo_url()
    typed = commands(parse_fence(src), url)
    code = "\n".join(html.escape(line) for line in typed)
    note = (
        ""
        if url
        else f'<p class="get-the-lab__note"><code>{html.escape(PLACEHOLDER)}</code> is a'
        " placeholder: this copy of the site was built without the project's address"
        f" (<code>{REPO_ENV}</code>). Use the address of the repository you got it from.</p>"
    )
    return (
        '<div class="get-the-lab" role="note" aria-label="Get the lab">'
        '<p class="get-the-lab__title">Get the lab</p>'
        "<p>In a terminal, with Docker running (the lab's only prerequisite besides git, make"
        " and Python 3.11 or newer); each <code>make</code> target sets up what it needs,"
        " the Python environment in <code>.venv</code> included:</p>"
        f'<pre class="get-the-lab__commands"><code>{code}</code></pre>{note}</div>'
    )
