"""A readiness check as `doctor` shows it: what was checked, the result, and how to fix it.

Its own module so that providers can answer for their own checks without importing doctor.
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # a failed check that is not required is a warning

    @property
    def mark(self) -> str:
        return "ok" if self.ok else ("FAIL" if self.required else "warn")


def port_free(port: int) -> Check:
    """Whether the lab can bind `port` on loopback (something listening there would stop it)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return Check(f"port {port}", True, "free on 127.0.0.1")
        except OSError:
            return Check(
                f"port {port}",
                False,
                "in use on 127.0.0.1",
                f"stop what listens there (`ss -ltnp 'sport = :{port}'`)",
            )


MIN_INOTIFY_WATCHES = 524288  # kind's known-issues page: several clusters need more than 8192
MIN_INOTIFY_INSTANCES = 512


def inotify(required: bool = True) -> list[Check]:
    """kubelets (kind's nodes) each watch many files; a low limit stops the second cluster."""
    if platform.system() != "Linux":
        return []
    checks = []
    for name, minimum in (
        ("max_user_watches", MIN_INOTIFY_WATCHES),
        ("max_user_instances", MIN_INOTIFY_INSTANCES),
    ):
        try:
            value = int((Path("/proc/sys/fs/inotify") / name).read_text())
        except (OSError, ValueError):
            continue
        checks.append(
            Check(
                f"inotify {name}",
                value >= minimum,
                str(value),
                f"sudo sysctl fs.inotify.{name}={minimum} (kind needs it for several clusters)",
                required=required,
            )
        )
    return checks
