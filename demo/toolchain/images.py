"""Images without pulls: make the app's base image locally, under the tag its Dockerfile names.

Our machines reach no container registry, so `FROM busybox:1.35.0` cannot be pulled there.
Debian's busybox-static is the same program: packed into a root file system and imported with
`docker import`, it stands in under that very tag, and the Dockerfile readers use stays as is.

`python -m demo provision` makes the base image unless Docker has it already.
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path

from demo.core import docker
from demo.core.paths import PACKAGE
from demo.core.run import CommandError, attempt, run

APP = PACKAGE / "app"
BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))


def base_image(dockerfile: Path = APP / "Dockerfile") -> str:
    """The image the Dockerfile's first FROM line names."""
    for line in dockerfile.read_text().splitlines():
        match = re.fullmatch(r"\s*FROM\s+(\S+).*", line, re.IGNORECASE)
        if match:
            return match.group(1)
    raise CommandError(f"{dockerfile}: no FROM line", "start the Dockerfile with `FROM image:tag`")


def busybox_rootfs(busybox: Path) -> bytes:
    """A tar of a minimal root file system: static busybox, its applets as links, /tmp, /www.

    Fixed times and owners make the tar, and so the imported layer, the same every time.
    """
    applets = run([str(busybox), "--list"], timeout=30).split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname = kind, mode, 0, link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for folder in ("bin", "etc", "tmp", "www"):
            add(folder, tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in sorted(set(applets) - {"busybox"}):
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add(
            "etc/passwd",
            tarfile.REGTYPE,
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
    return buffer.getvalue()


def ensure_base_image(dockerfile: Path = APP / "Dockerfile", log=print) -> str:
    """Make the Dockerfile's base image from local busybox unless Docker has it already."""
    image = base_image(dockerfile)
    if docker.image_exists(image):
        log(f"base image {image}: present")
        return image
    busybox = next((p for p in BUSYBOX_CANDIDATES if p.is_file()), None)
    if busybox is None or not docker.installed():
        raise CommandError(
            f"{image} cannot be pulled here and there is no busybox to make it from:"
            " apt-get install busybox-static docker.io"
        )
    log(f"base image {image}: importing from {busybox}")
    imported = docker.import_rootfs(image, busybox_rootfs(busybox), changes=['CMD ["sh"]'])
    if not imported.ok:
        raise CommandError(
            f"`docker import` of {image} failed: {imported.output(500)}",
            "check that Docker runs (`python -m demo doctor`)",
        )
    return image


def build_app(tag: str, version: str, context: Path = APP, labels: Sequence[str] = ()) -> str:
    """Build the app image; its id (sha256:...)."""
    # `labels` (`docker.lab_labels`): so that the lab state's `down` finds and removes it.
    options = [*labels, "--build-arg", f"VERSION={version}"]
    docker.build(tag, context, timeout=300, options=options)
    return docker.image_id(tag)


REGISTRY_CONFIG = b"""version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""


def shared_libraries(binary: Path) -> list[Path]:
    """The shared libraries `binary` loads, and its loader, as ldd lists them."""
    listed = attempt(["ldd", str(binary)], timeout=30).stdout  # a static binary: nothing listed
    return [Path(p) for p in re.findall(r"(/\S+) \(0x", listed)]


def program_rootfs(binary: Path, target: str, extra: dict[str, bytes]) -> bytes:
    """A tar of one dynamically linked program, its libraries and a few files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, name in [
            (binary, target),
            *((lib, str(lib)) for lib in shared_libraries(binary)),
        ]:
            info = tar.gettarinfo(str(path.resolve()), arcname=name.lstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as stream:
                tar.addfile(info, stream)
        for name, data in extra.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ensure_registry_image(log=print) -> str:
    """Debian's docker-registry as an image, where the readers' `registry:3` cannot be pulled.

    The kind nodes pull from it on their network, as they would from `registry:3`. Named by the
    Debian package's version, so it is made once per version.
    """
    binary = shutil.which("docker-registry")
    if binary is None:
        loaded = docker.image_tags("tellit-registry")
        if loaded:  # from an offline bundle (`demo.offline.load`), on a machine without Debian's
            return f"tellit-registry:{loaded[0]}"
        raise CommandError(
            "Debian's docker-registry is not installed",
            "run `make provision` (apt-get install docker-registry)",
        )
    version = run(["dpkg-query", "-W", "-f", "${Version}", "docker-registry"]).split("+")[0]
    image = f"tellit-registry:{version}"
    if docker.image_exists(image):
        return image
    log(f"registry image {image}: made from {binary}")
    rootfs = program_rootfs(
        Path(binary), "/bin/registry", {"/etc/docker/registry/config.yml": REGISTRY_CONFIG}
    )
    entrypoint = 'ENTRYPOINT ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]'
    imported = docker.import_rootfs(image, rootfs, changes=[entrypoint, "EXPOSE 5000"])
    if not imported.ok:
        raise CommandError(
            f"`docker import` of {image} failed: {imported.output(500)}",
            "check that Docker runs (`python -m demo doctor`)",
        )
    return image
