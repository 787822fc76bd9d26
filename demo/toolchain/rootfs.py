"""Debian root filesystems made into Docker images, for images no registry can give us.

`debootstrap --variant=minbase` from the machine's own apt mirror, without what a container
never reads (documentation, manuals, locales, apt's lists), imported with `docker import`.
Used by the kind node image (`demo.clusters.kind.nodeimage`) and the lab's Python image
(`demo.toolchain.pyimage`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from demo.core import docker
from demo.core.errors import LabError
from demo.core.run import CommandError, piped, run

SUITE = "bookworm"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
UNREAD = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/cache/debconf",
)


class RootfsError(LabError):
    """A root filesystem could not be made or imported."""


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The machine's configured Debian mirror (the one apt uses), for debootstrap."""
    candidates = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"^\s*URIs:\s*(\S+)|^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            uri = match.group(1) or match.group(2)
            if re.search(r"/debian/?$", uri):
                return uri
    return FALLBACK_MIRROR


def debian_image(tag: str, packages: tuple[str, ...], changes: tuple[str, ...] = ()) -> str:
    """Make image `tag` from a minbase Debian with `packages`; `changes` as `docker import`
    takes them (ENV, CMD...). Needs root and debootstrap (`sh demo/host.sh --node-image`)."""
    if shutil.which("debootstrap") is None:
        raise RootfsError(
            "debootstrap is needed to make a Debian image",
            "apt-get install debootstrap (`make node-image` installs it)",
        )
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="tellit-rootfs-") as work:
        target = Path(work) / "rootfs"
        try:
            run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(packages)}",
                    SUITE,
                    target,
                    mirror,
                ],
                timeout=1200,
            )
        except CommandError as error:
            raise RootfsError(
                f"debootstrap of {SUITE} from {mirror} failed",
                "check that the mirror answers (apt-get update) and that this runs as root",
            ) from error
        for folder in UNREAD:
            shutil.rmtree(target / folder, ignore_errors=True)
        flags = [part for change in changes for part in ("--change", change)]
        try:
            piped(["tar", "-C", str(target), "-c", "."], docker.argv("import", *flags, "-", tag))
        except CommandError as error:
            raise RootfsError(
                f"`docker import` of the root filesystem failed: {str(error)[-500:]}",
                "check that Docker runs and has disk space (docker system df)",
            ) from error
    return tag
