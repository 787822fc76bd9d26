"""A `docker` in front of kind's, for machines that refuse `docker run --privileged`.

kind passes `--privileged` to every node's `docker run` and to `docker exec`. Where runc
cannot grant every capability (a VM whose bounding set lacks CAP_SYS_RESOURCE), the run fails
with "unable to apply caps", and Docker 20.10 ignores `--cap-drop` next to `--privileged`.
This shim rewrites that one flag into what a kind node needs, keeping everything else:

- `run`/`create`: every capability but SYS_RESOURCE, no seccomp or AppArmor profile, /proc and
  /sys not masked, every device cgroup rule, /dev/kmsg; kind's `/lib/modules` mount is dropped
  when the host has no such folder (Docker would create an empty one on the host).
- `exec`: `--privileged` is dropped (kind's execs need no more than the node has).

The node image's entry script (`demo.clusters.kind.nodeimage.ENTRY`) then remounts /sys and the
cgroups read-write inside the node and shields the host-wide sysctls kubelet writes, so the shared
host is never changed. Used only when doctor finds `--privileged` refused, never on a reader's
laptop where it works. Run as `python -m demo.clusters.kind.shim <docker arguments>`;
`TELLIT_REAL_DOCKER` names the docker it calls. The module imports nothing of the lab, so it starts
fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Everything `--privileged` gives a kind node that runc can still grant here.
UNPRIVILEGED = (
    "--cap-add=ALL",
    "--cap-drop=SYS_RESOURCE",
    "--security-opt=seccomp=unconfined",
    "--security-opt=apparmor=unconfined",
    "--security-opt=systempaths=unconfined",
    "--device-cgroup-rule=a *:* rwm",
    "--device=/dev/kmsg",
)
MODULES_MOUNTS = ("/lib/modules:/lib/modules:ro", "/lib/modules:/lib/modules")


def rewrite(args: list[str], host_has_modules: bool) -> list[str]:
    """docker's arguments with `--privileged` replaced; anything else is passed through."""
    if not args or "--privileged" not in args:
        return list(args)
    command = args[0]
    if command == "exec":
        return [a for a in args if a != "--privileged"]
    if command not in ("run", "create"):
        return list(args)
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--privileged":
            out.extend(UNPRIVILEGED)
        elif (
            not host_has_modules
            and arg in ("--volume", "-v")
            and index + 1 < len(args)
            and args[index + 1] in MODULES_MOUNTS
        ):
            index += 1  # skip the mount and its value
        elif not host_has_modules and arg.startswith("--volume=") and arg[9:] in MODULES_MOUNTS:
            pass
        else:
            out.append(arg)
        index += 1
    return out


def main(argv: list[str]) -> int:
    real = os.environ.get("TELLIT_REAL_DOCKER", "/usr/bin/docker")
    args = rewrite(argv, Path("/lib/modules").is_dir())
    os.execv(real, [real, *args])
    return 127  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
