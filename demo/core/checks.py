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


def port_free_fix(port: int) -> str:
    return f"stop what listens there (`ss -ltnp 'sport = :{port}'`)"


def port_free(port: int) -> Check:
    """Whether the lab can bind `port` on loopback (something listening there would stop it)."""
    with socket.socket() as sock:
        # As servers bind: connections of a lab just taken down, still in TIME_WAIT, do not
        # hold the port for whoever listens next.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return Check(f"port {port}", True, "free on 127.0.0.1")
        except OSError:
            return Check(
                f"port {port}",
                False,
                "in use on 127.0.0.1",
                port_free_fix(port),
            )


MIN_INOTIFY_WATCHES = 524288  # kind's known-issues page, for many clusters
MIN_INOTIFY_INSTANCES = 512
# What one single-node kind cluster of the lab used, measured here with three running: 27
# inotify instances and 257 watches (all of root's, as nodes share the host's user). Rounded up.
PER_CLUSTER = {"max_user_instances": 32, "max_user_watches": 1024}
HEADROOM = {"max_user_instances": 16, "max_user_watches": 8192}  # the host's own users


def inotify(required: bool = True, clusters: int = 3) -> list[Check]:
    """kubelets (kind's nodes) each watch many files; a low limit stops a cluster from starting.

    Fails below what `clusters` clusters need (measured); warns below kind's recommendation,
    which is sized for many more clusters than the lab runs.
    """
    if platform.system() != "Linux":
        return []
    checks = []
    for name, recommended in (
        ("max_user_watches", MIN_INOTIFY_WATCHES),
        ("max_user_instances", MIN_INOTIFY_INSTANCES),
    ):
        try:
            value = int((Path("/proc/sys/fs/inotify") / name).read_text())
        except (OSError, ValueError):
            continue
        needed = HEADROOM[name] + PER_CLUSTER[name] * clusters
        fix = f"sudo sysctl fs.inotify.{name}={recommended} (kind's recommendation)"
        if value < needed:
            checks.append(
                Check(
                    f"inotify {name}",
                    False,
                    f"{value}: {clusters} kind clusters need about {needed}",
                    fix,
                    required=required,
                )
            )
        else:
            checks.append(
                Check(
                    f"inotify {name}",
                    value >= recommended,
                    f"{value}: enough for {(value - HEADROOM[name]) // PER_CLUSTER[name]} clusters",
                    fix,
                    required=False,
                )
            )
    return checks
