"""`python -m demo doctor`: is this machine ready for the lab? Each failed check says how to fix it.

For readers before a workshop, and for facilitators preparing a room. The checks every
provider shares are here; each provider adds its own (`Provider.available`).
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

from .checks import Check
from .clusters import provider as get_provider
from .paths import state_dir
from .run import CommandError, run

MIN_MEMORY_GB = 8
MIN_DISK_GB = 10


def docker_running() -> Check:
    if shutil.which("docker") is None:
        return Check(
            "docker", False, "not installed", "install Docker (Debian: apt-get install docker.io)"
        )
    try:
        version = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=15)
        return Check("docker", True, f"engine {version.strip()} running")
    except CommandError:
        return Check(
            "docker",
            False,
            "installed, but the engine does not answer",
            "start it: `make provision` (as root), `sudo systemctl start docker` or Docker Desktop",
        )


def memory() -> Check:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return Check("memory", True, "unknown on this system", required=False)
    gigabytes = pages / 1e9
    return Check(
        "memory",
        gigabytes >= MIN_MEMORY_GB,
        f"{gigabytes:.1f} GB",
        f"the lab wants {MIN_MEMORY_GB} GB or more; use fewer clusters (--clusters 1)",
    )


def architecture() -> Check:
    machine = platform.machine().lower()
    ok = machine in ("x86_64", "amd64", "aarch64", "arm64")
    return Check(
        "cpu architecture",
        ok,
        f"{platform.system()} {machine}",
        "the lab supports amd64 and arm64 only",
    )


def disk() -> Check:
    folder = state_dir()
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free / 1e9
    return Check(
        "free disk",
        free >= MIN_DISK_GB,
        f"{free:.0f} GB free at {probe}",
        f"free at least {MIN_DISK_GB} GB (docker system prune removes unused images)",
    )


def git() -> Check:
    found = shutil.which("git")
    return Check("git", found is not None, found or "missing", "install git")


def all_checks(provider: str) -> list[Check]:
    """The shared checks, then the provider's own."""
    return [
        docker_running(),
        memory(),
        architecture(),
        disk(),
        git(),
        *get_provider(provider).available(),
    ]


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok and c.required]


def summary(checks: list[Check]) -> str:
    """One line: how many passed, how many warned, how many failed."""
    bad = failed(checks)
    warned = [c for c in checks if not c.ok and not c.required]
    text = f"{len(checks) - len(bad) - len(warned)} of {len(checks)} checks passed"
    text += f", {len(warned)} warning(s)" if warned else ""
    text += f", {len(bad)} failed." if bad else "."
    return text + (" Fix the failures above, then run the doctor again." if bad else "")
