"""What the lab's tests share: each run gets its own lab state, and parts it needs are checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from demo.core.context import LabContext, Log, silent
from demo.core.paths import tools_dir
from demo.toolchain import provision
from support.helpers import need
from support.paths import ROOT

# git as a test drives it: no prompts, no system config, a fixed author.
GIT_ENV = {
    **os.environ,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}


def lab_at(state: Path, log: Log = silent) -> LabContext:
    """The lab context of a test's own lab state: this machine's built tools, no log unless
    the test keeps one."""
    return LabContext(state, tools_dir(), log)


def demo(
    *args: str, state: Path, timeout: float = 600, path: str | None = None
) -> subprocess.CompletedProcess:
    """`python -m demo ARGS` as a reader runs it, with this test's lab state (wide tables);
    `path`, when given, is the PATH it finds its tools on."""
    env = demo_env(state) | ({"PATH": path} if path is not None else {})
    return subprocess.run(
        [sys.executable, "-m", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def demo_env(state: Path) -> dict[str, str]:
    return {**os.environ, "TELLIT_LAB_STATE": str(state), "COLUMNS": "200"}


def docker_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    return result.returncode == 0


def need_docker() -> None:
    need(
        docker_ready(),
        "a running Docker engine (apt-get install docker.io; .ci/run starts dockerd)",
    )


def need_registry() -> None:
    need(
        shutil.which("docker-registry") is not None,
        "Debian's docker-registry (apt-get install docker-registry)",
    )


def need_lab_tools() -> None:
    need(not provision.missing(tools_dir()), "the lab's Kubernetes tools (run `make provision`)")


def need_flux() -> None:
    need(
        not provision.missing(tools_dir(), tools=provision.FLUX_TOOLS),
        "Flux's controllers (run `make provision`)",
    )


def need_git() -> None:
    need(shutil.which("git") is not None, "git")


def tour_rows(state: Path) -> list[dict]:
    """The rows of the last tour's table in the lab state `state` (what `make demo` did)."""
    return json.loads((state / "tour.json").read_text())["rows"]
