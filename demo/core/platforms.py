"""Operating systems and architectures as Go and release URLs spell them (linux/darwin,
amd64/arm64). Standard library only: the offline loader uses it before `.venv` exists."""

from __future__ import annotations

import platform

ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
SYSTEMS = {"Linux": "linux", "Darwin": "darwin"}


def this_platform() -> str:
    """This machine as `<os>-<arch>`, e.g. linux-amd64 (unknown names pass through as they are,
    so that a message can say which machine has nothing)."""
    system = SYSTEMS.get(platform.system(), platform.system())
    return f"{system}-{ARCHITECTURES.get(platform.machine().lower(), platform.machine())}"
