"""`python -m demo doctor`: is this machine ready for the lab? Each failed check says how to fix it.

For readers before a workshop, and for facilitators preparing a room. The checks every
provider shares are here; each provider adds its own (`Provider.available`).
"""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

from demo.clusters import provider as get_provider
from demo.core import docker
from demo.core.checks import Check
from demo.core.context import LabContext
from demo.core.run import CommandError

MIN_MEMORY_GB = 8
MIN_DISK_GB = 10
MIN_CORES = 2  # what the lab is measured on; the tests and three clusters run on 2
ARCHITECTURES = ("x86_64", "amd64", "aarch64", "arm64")


@dataclass(frozen=True)
class Need:
    """What a shared check asks of a machine, and what to do when it fails: one place, so the
    doctor and the workshop's room requirements (`demo.workshop.room`) say the same."""

    check: str
    need: str
    fix: str


NEEDS = {
    n.check: n
    for n in (
        Need("docker", "Docker installed, its engine running",
             "install Docker (Debian: apt-get install docker.io; macOS and Windows: Docker"
             " Desktop), then start it: `make provision` (as root), `sudo systemctl start"
             " docker` or Docker Desktop"),
        Need("memory", f"{MIN_MEMORY_GB} GB of memory or more",
             f"the lab wants {MIN_MEMORY_GB} GB or more; use fewer clusters (--clusters 1)"),
        Need("cpu cores", f"{MIN_CORES} cores or more",
             "the lab runs on 2 cores, slowly; use fewer clusters (--clusters 1)"),
        Need("cpu architecture", "amd64 or arm64",
             "the lab supports amd64 and arm64 only"),
        Need("free disk", f"{MIN_DISK_GB} GB free where the lab keeps its state",
             f"free at least {MIN_DISK_GB} GB (docker system prune removes unused images)"),
        Need("git", "git", "install git"),
    )
}  # fmt: skip


def docker_running() -> Check:
    if not docker.installed():
        return Check("docker", False, "not installed", NEEDS["docker"].fix)
    try:
        return Check("docker", True, f"engine {docker.engine_version()} running")
    except CommandError:
        return Check(
            "docker",
            False,
            "installed, but the engine does not answer",
            NEEDS["docker"].fix,
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
        NEEDS["memory"].fix,
    )


def cores() -> Check:
    count = os.cpu_count() or 0
    return Check("cpu cores", count >= MIN_CORES, f"{count}", NEEDS["cpu cores"].fix)


def architecture() -> Check:
    machine = platform.machine().lower()
    return Check(
        "cpu architecture",
        machine in ARCHITECTURES,
        f"{platform.system()} {machine}",
        NEEDS["cpu architecture"].fix,
    )


def disk(folder: Path) -> Check:
    """Free space where the lab state `folder` lives (or would)."""
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free / 1e9
    return Check(
        "free disk",
        free >= MIN_DISK_GB,
        f"{free:.0f} GB free at {probe}",
        NEEDS["free disk"].fix,
    )


def git() -> Check:
    found = shutil.which("git")
    return Check("git", found is not None, found or "missing", NEEDS["git"].fix)


def all_checks(provider: str, lab: LabContext) -> list[Check]:
    """The shared checks, then the provider's own, for the lab `lab`."""
    return [
        docker_running(),
        memory(),
        cores(),
        architecture(),
        disk(lab.state),
        git(),
        *get_provider(provider, lab).available(),
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
