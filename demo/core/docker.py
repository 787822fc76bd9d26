"""Docker's command lines in one place: the lab's images, containers and networks.

Every module that needs Docker asks here, so that a flag spelled once is spelled the same way
everywhere (a name filter anchored with `^...$`, `--force` on removal, `--quiet` on a push),
and every call goes through `demo.core.run`, which names the command when it fails. The
functions that only build a command line (`exec_argv`, `run_argv`) are pure, for the callers
that hand the line to another runner (kind's network recipe pipes files through them).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from demo.core.naming import LABEL, STATE_LABEL, state_owner
from demo.core.run import CommandError, Finished, attempt, run

DOCKER = "docker"


def argv(*args: str | Path) -> list[str]:
    """`docker ARGS` as a command line, for a caller that hands it to another runner (a pipe)."""
    return [DOCKER, *(str(a) for a in args)]


def lab_labels(root: Path) -> tuple[str, ...]:
    """`--label` flags for an object the lab state at `root` makes: the lab's own label, so
    everything of the lab can be found, and its state's, so `down` removes only its own."""
    return ("--label", f"{LABEL}=true", "--label", f"{STATE_LABEL}={state_owner(root)}")


def state_filter(root: Path) -> str:
    """A `--filter` value that matches what the lab state at `root` made (`lab_labels`)."""
    return f"label={STATE_LABEL}={state_owner(root)}"


def docker(*args: str | Path, input: str | bytes | None = None, timeout: float = 120) -> str:
    """`docker ARGS`, its standard output; CommandError with what it said when it fails."""
    return run([DOCKER, *args], input=input, timeout=timeout)


def try_docker(*args: str | Path, timeout: float = 120) -> Finished:
    """`docker ARGS` run to its end, for callers to whom a failure is an answer."""
    return attempt([DOCKER, *args], timeout=timeout)


def installed() -> bool:
    return shutil.which(DOCKER) is not None


def engine_version(timeout: float = 15) -> str:
    """The running engine's version; CommandError when it does not answer."""
    return docker("version", "--format", "{{.Server.Version}}", timeout=timeout).strip()


# Images.
def image_exists(*refs: str) -> bool:
    """Whether every one of these images is here (no Docker at all: none is)."""
    try:
        return try_docker("image", "inspect", *refs).ok
    except CommandError:
        return False


def image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).strip()


def image_tags(repository: str) -> list[str]:
    """The tags of a local repository, e.g. every recipe of an image built here."""
    return docker("image", "ls", repository, "--format", "{{.Tag}}").split()


def remove_images(*refs: str, force: bool = True) -> Finished:
    """Remove images (forced: even a tag a stopped container uses); an image still in use
    stays, which is an answer, not an error."""
    return try_docker("image", "rm", *(["--force"] if force else []), *refs)


def build(tag: str, context: Path, timeout: float = 600, options: Sequence[str] = ()) -> None:
    """`docker build` of `context` as `tag` (options: labels, build arguments)."""
    docker("build", "--quiet", *options, "-t", tag, context, timeout=timeout)


def import_rootfs(tag: str, rootfs: bytes, changes: Sequence[str] = ()) -> Finished:
    """An image from a root filesystem's tar (`docker import`), with Dockerfile `changes`
    such as `CMD ["sh"]`; how it ended, for the caller to word the error."""
    flags = [part for change in changes for part in ("--change", change)]
    return attempt([DOCKER, "import", *flags, "-", tag], input=rootfs, timeout=300)


def save(archive: Path, *images: str, timeout: float = 900) -> None:
    docker("save", "-o", archive, *images, timeout=timeout)


def load(archive: Path, timeout: float = 900) -> None:
    docker("load", "-i", archive, timeout=timeout)


def pull(image: str, timeout: float = 300) -> None:
    docker("pull", "--quiet", image, timeout=timeout)


def push(local: str, target: str, timeout: float = 300) -> None:
    """Tag a local image as `target` and push it there."""
    docker("tag", local, target)
    docker("push", "--quiet", target, timeout=timeout)


# Containers.
def containers(*filters: str, stopped: bool = True) -> list[str]:
    """Ids of the containers that match every `--filter` (stopped ones too, by default)."""
    flags = [flag for value in filters for flag in ("--filter", value)]
    return docker("ps", "-q", *(["-a"] if stopped else []), *flags).split()


def running(name: str) -> bool:
    """Whether a container of exactly this name is running."""
    return bool(containers(f"name=^{name}$", stopped=False))


def remove_containers(*names: str) -> None:
    if names:
        docker("rm", "--force", *names)


def inspect(template: str, name: str) -> str:
    """One field of a container or image, by a Go template such as `{{.Config.Image}}`."""
    return docker("inspect", "--format", template, name).strip()


def run_argv(image: str, *args: str, options: Sequence[str] = ()) -> list[str]:
    """`docker run OPTIONS IMAGE ARGS` as a command line (options: detach, labels, ports)."""
    return [DOCKER, "run", *options, image, *args]


def exec_argv(container: str, *args: str, interactive: bool = False) -> list[str]:
    """`docker exec [-i] CONTAINER ARGS` as a command line (-i: it reads standard input)."""
    return [DOCKER, "exec", *(["-i"] if interactive else []), container, *args]


# Networks.
def network_exists(name: str) -> bool:
    return bool(docker("network", "ls", "-q", "--filter", f"name=^{name}$").split())


def ensure_network(name: str, labels: Sequence[str]) -> None:
    """A network of this name, made with these `--label` flags (`lab_labels`: so that `down`
    removes it); one made meanwhile by another process of the same run is just as good."""
    if network_exists(name):
        return
    try:
        docker("network", "create", *labels, name)
    except CommandError:
        if not network_exists(name):
            raise


def connect(network: str, container: str) -> None:
    docker("network", "connect", network, container)
