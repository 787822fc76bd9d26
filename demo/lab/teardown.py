"""`python -m demo down`: remove everything the lab created, then check that nothing is left.

It finds the lab's things by its prefix and label only: each provider cleans up its own
clusters (and what a killed run left), services are stopped by their pid files in the lab's
state, containers and networks labelled tell-it-with-a-meme/lab are removed, and the state
folder goes last. Built tools in the cache are kept (they are not lab state).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from demo.clusters import provider
from demo.core import docker
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.processes import runs_from, wait_finished
from demo.core.run import CommandError
from demo.services.background import Service

CLUSTER_PROVIDERS = ("kwok", "kind")  # the ones that create clusters (kubeconfig never does)


def services(root: Path) -> list[Service]:
    folder = root / "services"
    return [Service.named(p.name, folder) for p in folder.iterdir()] if folder.is_dir() else []


# What the lab labels, how docker lists it and how it removes it; the order is the order of
# removal (an image goes after the containers that use it).
LABELLED = {
    "container": (("ps", "-aq"), ("rm", "--force")),
    "network": (("network", "ls", "-q"), ("network", "rm")),
    "image": (("image", "ls", "-q"), ("image", "rm", "--force")),  # the app images built here
}


def docker_leftovers(root: Path) -> list[str]:
    """The containers, networks and images the lab state at `root` made, by their label."""
    if not docker.installed():
        return []
    found = []
    mine = docker.state_filter(root)
    try:
        for kind, (listing, _) in LABELLED.items():
            ids = docker.docker(*listing, "--filter", mine, timeout=30).split()
            found += [f"{kind} {i}" for i in dict.fromkeys(ids)]  # an image id once per tag
    except CommandError:
        pass  # no engine running: nothing of ours can be running in it
    return found


def processes_under(root: Path) -> list[psutil.Process]:
    """Live processes started from the lab state (by their command line or folder)."""
    return [p for p in psutil.process_iter() if runs_from(p, root)]


def down(lab: LabContext) -> list[str]:
    """Remove the lab's clusters, containers, networks, processes and state; what is left."""
    root, log = lab.state, lab.log
    problems: list[str] = []
    for name in CLUSTER_PROVIDERS:
        if not (root / name).is_dir():
            continue
        try:
            problems += provider(name, lab).cleanup(log)
        except (LabError, OSError) as error:  # one provider failing must not stop the rest
            problems.append(f"the {name} clusters: {error}")
    for service in services(root):
        if service.pid():
            log(f"stopping {service.name}")
        try:
            service.stop()
        except LabError as error:
            problems.append(str(error))
    for item in docker_leftovers(root):
        kind, ident = item.split()
        log(f"removing {item}")
        try:
            docker.docker(*LABELLED[kind][1], ident)
        except CommandError as error:
            problems.append(str(error))
    strays = processes_under(root)
    for process in strays:
        log(f"stopping a leftover process {process.pid} ({process.name()})")
        with contextlib.suppress(psutil.Error):
            process.kill()
    wait_finished(strays, timeout=10)
    if root.exists() and not problems:
        log(f"removing {root}")
        shutil.rmtree(root)
    return problems + leftovers(root)


def leftovers(root: Path) -> list[str]:
    left = docker_leftovers(root)
    left += [f"process {s.name} ({s.pid()})" for s in services(root) if s.pid()]
    left += [f"process {p.pid} started from {root}" for p in processes_under(root)]
    if root.exists():
        left.append(f"folder {root}")
    return left


def refuse_beside_a_lab(yours: Path) -> None:
    """Refuse while the reader's lab (state `yours`) is up."""
    if (yours / "lab.json").is_file():
        # Cleanup removes only what its own state made, but two labs share names that are
        # fixed (tellit-registry on port 5001, the kind clusters, the git mirror): the second
        # would take the first's, or fail half-way.
        raise LabError(
            f"a lab is up ({yours}): this brings up a lab of its own, and the two would claim"
            " the same cluster, registry and port names",
            "take yours down first (`python -m demo down`), then run it again",
        )


@contextmanager
def own_lab(name: str, lab: LabContext) -> Iterator[LabContext]:
    """A lab state of its own for what runs inside (experiments, a recording), beside the
    reader's `lab` (refused while that one is up), with its tools and log; torn down after
    whatever happened, and checked: anything left behind is an error (after the body's own
    error, if any). The body is handed the context and passes it on; the environment is left
    as it was (a child process gets the folders from `child_env`)."""
    refuse_beside_a_lab(lab.state)
    with tempfile.TemporaryDirectory(prefix=f"tellit-{name}-") as folder:
        own = lab.at(Path(folder) / "lab")
        try:
            yield own
        finally:
            left = down(own.quiet())
        if left:
            raise LabError(
                f"the {name} lab left something behind: {'; '.join(left)}",
                "`python -m demo down` with TELLIT_LAB_STATE set to it removes the rest",
            )
