"""`make doctor`: is this machine ready for the lab? Each failed check says how to fix it.

For readers before a workshop, and for facilitators preparing a room.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from . import provision
from .paths import state_dir
from .run import CommandError, run

PORTS = (5001,)  # the readers' registry on loopback (kind recipe)
MIN_MEMORY_GB = 8
MIN_DISK_GB = 10
MIN_INOTIFY_WATCHES = 524288  # kind's known-issues page: several clusters need more than 8192
MIN_INOTIFY_INSTANCES = 512


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


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
            "start it: `sudo dockerd &`, `sudo systemctl start docker` or Docker Desktop",
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


def port_free(port: int) -> Check:
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


def inotify(required: bool = True) -> list[Check]:
    if platform.system() != "Linux":
        return []
    checks = []
    for name, minimum in (
        ("max_user_watches", MIN_INOTIFY_WATCHES),
        ("max_user_instances", MIN_INOTIFY_INSTANCES),
    ):
        path = Path("/proc/sys/fs/inotify") / name
        try:
            value = int(path.read_text())
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


def tools(provider: str) -> list[Check]:
    checks = [
        Check(
            "git", shutil.which("git") is not None, shutil.which("git") or "missing", "install git"
        )
    ]
    if provider == "kwok":
        missing = provision.missing()
        checks.append(
            Check(
                "kwok tools",
                not missing,
                "built" if not missing else f"missing {[t.name for t in missing]}",
                "run `make provision` (builds them from Go modules)",
            )
        )
        checks.append(
            Check(
                "docker-registry",
                shutil.which("docker-registry") is not None,
                shutil.which("docker-registry") or "missing",
                "apt-get install docker-registry",
            )
        )
    return checks


def all_checks(provider: str) -> list[Check]:
    # Only kind runs kubelets (inside its node containers) that need many inotify watches.
    checks = [
        docker_running(),
        memory(),
        architecture(),
        disk(),
        *inotify(required=provider == "kind"),
        *tools(provider),
    ]
    if provider == "kind":
        checks += [port_free(port) for port in PORTS]
    return checks


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'check':{width}}  result  detail", f"{'-' * width}  ------  ------"]
    for check in checks:
        mark = "ok" if check.ok else ("FAIL" if check.required else "warn")
        lines.append(f"{check.name:{width}}  {mark:6}  {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"{'':{width}}          fix: {check.fix}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    provider = argv[0] if argv else os.environ.get("TELLIT_PROVIDER", "kind")
    checks = all_checks(provider)
    print(f"Lab readiness for the {provider} provider\n")
    print(report(checks))
    failed = [c for c in checks if not c.ok and c.required]
    warned = [c for c in checks if not c.ok and not c.required]
    summary = f"\n{len(checks) - len(failed) - len(warned)} of {len(checks)} checks passed"
    summary += f", {len(warned)} warning(s)" if warned else ""
    summary += f", {len(failed)} failed." if failed else "."
    print(summary + (" Fix the failures above, then run `make doctor` again." if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
