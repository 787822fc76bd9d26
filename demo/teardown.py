"""`make demo-down`: remove everything the lab created, then check that nothing is left.

It finds the lab's things by its prefix and label only: clusters named tellit-*, containers
and networks labelled tell-it-with-a-meme/lab, services with pid files in the lab's state, and
the state folder itself. Built tools in the cache are kept (they are not lab state).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .clusters.base import LAB_LABEL
from .paths import state_dir
from .run import CommandError, run
from .services import Service


def services(root: Path) -> list[Service]:
    folder = root / "services"
    return [Service.named(p.name, folder) for p in folder.iterdir()] if folder.is_dir() else []


def docker_leftovers() -> list[str]:
    if shutil.which("docker") is None:
        return []
    found = []
    try:
        for kind, command in (
            ("container", ["docker", "ps", "-aq"]),
            ("network", ["docker", "network", "ls", "-q"]),
        ):
            ids = run([*command, "--filter", f"label={LAB_LABEL}"], timeout=30).split()
            found += [f"{kind} {i}" for i in ids]
    except CommandError:
        pass  # no engine running: nothing of ours can be running in it
    return found


def down(root: Path | None = None, log=print) -> list[str]:
    """Remove the lab's clusters, containers, networks, processes and state; what is left."""
    root = root or state_dir()
    from .clusters import provider

    for name in ("kwok", "kind"):
        if not (root / name).is_dir():
            continue
        try:
            owner = provider(name, root=root / name)
            for cluster in owner.list():
                log(f"deleting {name} cluster {cluster.name}")
                owner.delete(cluster.name)
        except Exception as error:  # one provider failing must not stop the rest of cleanup
            log(f"could not remove the {name} clusters: {error}")
    for service in services(root):
        if service.pid():
            log(f"stopping {service.name}")
        service.stop()
    remove = {"container": ["docker", "rm", "--force"], "network": ["docker", "network", "rm"]}
    for item in docker_leftovers():
        kind, ident = item.split()
        log(f"removing {item}")
        run([*remove[kind], ident])
    if root.exists():
        log(f"removing {root}")
        shutil.rmtree(root)
    return leftovers(root)


def leftovers(root: Path) -> list[str]:
    left = docker_leftovers()
    left += [f"process {s.name} ({s.pid()})" for s in services(root) if s.pid()]
    if root.exists():
        left.append(f"folder {root}")
    return left


def main() -> int:
    left = down()
    if left:
        print("left behind, remove by hand:\n  " + "\n  ".join(left))
        return 1
    print("nothing of the lab is left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
