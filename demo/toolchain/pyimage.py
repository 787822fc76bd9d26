"""The lab's Python image: what runs the pull agent inside a kind cluster.

Two recipes, one result: the lab's own code and exactly the libraries the agent imports, at
the versions requirements/lab.lock pins, on Debian with Python and git.
- Where nothing can be pulled (our machines, CI; Linux with debootstrap): a Debian root
  filesystem (`demo.toolchain.rootfs`) and the libraries copied from the lab's virtual environment,
  so nothing is downloaded. Their compiled parts fit because the environment's Python and
  Debian's are the same minor version (checked).
- On a reader's laptop (macOS too, where the environment's libraries are not Linux's): the
  published `python:3.11-slim`, git from Debian, and the same pinned libraries from PyPI.
Named by a digest of what it holds, so a change to the lab's code makes a new image and
nothing else does; the Debian layer is kept apart and made once.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from demo.core import docker, entrypoints
from demo.core.errors import LabError
from demo.core.paths import PACKAGE
from demo.toolchain import rootfs

BASE_PACKAGES = ("python3", "git", "ca-certificates")
DEBIAN_PYTHON = (3, 11)  # bookworm's python3
# What the agent imports from outside the standard library; their own requirements follow.
ROOTS = ("lightkube", "prometheus_client", "requests", "PyYAML", "psutil")
CODE = PACKAGE
REPOSITORY = "tellit-lab-python"
LAB = """\
COPY code/ /opt/lab/code/
ENV PYTHONPATH=/opt/lab/site:/opt/lab/code PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["python3", "-m"]
"""
DOCKERFILE = "FROM {base}\nCOPY site/ /opt/lab/site/\n" + LAB
PUBLISHED_BASE = "python:3.11-slim"
PUBLISHED_DOCKERFILE = (
    f"FROM {PUBLISHED_BASE}\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends git"
    " && rm -rf /var/lib/apt/lists/*\n"
    "COPY requirements.txt /opt/lab/requirements.txt\n"
    "RUN pip install --no-cache-dir --no-deps --target /opt/lab/site"
    " -r /opt/lab/requirements.txt\n"
) + LAB


class PythonImageError(LabError):
    """The lab's Python image could not be made."""


def requirement_name(line: str) -> str | None:
    """The distribution a Requires-Dist line names, or None when only an extra asks for it."""
    if "extra ==" in line or "extra==" in line:
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return match.group(1) if match else None


def closure(roots: tuple[str, ...] = ROOTS) -> list[metadata.Distribution]:
    """The installed distributions `roots` need, theirs included (those installed here)."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in roots:
                raise PythonImageError(
                    f"{name} is not installed in the lab's environment",
                    "run `make provision`, which installs requirements/lab.lock",
                ) from None
            continue  # a requirement for another platform or Python
        found[key] = distribution
        todo += [n for line in distribution.requires or [] if (n := requirement_name(line))]
    return sorted(found.values(), key=lambda d: d.metadata["Name"].lower())


def copy_distribution(distribution: metadata.Distribution, site: Path) -> None:
    for file in distribution.files or []:
        parts = Path(file).parts
        if parts[0] == ".." or "__pycache__" in parts:
            continue  # scripts outside site-packages, and bytecode for another path
        source = Path(distribution.locate_file(file))
        if source.is_file():
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# What runs inside a cluster, by entry point (demo.core.entrypoints): the agent, and the git
# server of the read-only mirror.
IN_CLUSTER = ("agent", "gitserver")


def _module_file(name: str) -> Path | None:
    """The file of the lab's module `name` (a package's __init__), or None if it is none."""
    parts = name.split(".")
    if parts[0] != "demo":
        return None
    base = CODE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def code_files(entries: tuple[str, ...] = IN_CLUSTER) -> list[Path]:
    """The lab's files that the in-cluster programs import, their packages' __init__ files
    included: found from the import statements of each file (at any depth, so the imports a
    function makes late count too), starting from the entry points' modules."""
    found: set[Path] = set()
    todo = [entrypoints.module(entry) for entry in entries]
    # `python -m` of a package runs its __main__.
    todo += [f"{name}.__main__" for name in list(todo) if _module_file(f"{name}.__main__")]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if path is None or path in found:
            continue
        found.add(path)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # the packages on the way
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return sorted(found)


def copy_code(target: Path) -> None:
    """Only what runs in a cluster: a change elsewhere in the lab makes no new image."""
    for path in code_files():
        copied = target / "demo" / path.relative_to(CODE)
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copied)


def digest(distributions: list[metadata.Distribution]) -> str:
    hashed = hashlib.sha256(repr((BASE_PACKAGES, DOCKERFILE, PUBLISHED_DOCKERFILE)).encode())
    for distribution in distributions:
        hashed.update(f"{distribution.metadata['Name']}=={distribution.version}\n".encode())
    for path in code_files():
        hashed.update(str(path.relative_to(CODE)).encode() + b"\0" + path.read_bytes())
    return hashed.hexdigest()[:12]


def pinned(distributions: list[metadata.Distribution]) -> str:
    """requirements.txt of exactly these distributions at exactly these versions."""
    return "".join(f"{d.metadata['Name']}=={d.version}\n" for d in distributions)


def local_recipe() -> bool:
    """Whether to make the image without pulling: on Linux, where debootstrap is installed."""
    return sys.platform == "linux" and shutil.which("debootstrap") is not None


def ensure(log=print) -> str:
    """The image's name, made if missing (a minute the first time, seconds after a change)."""
    distributions = closure()
    image = f"{REPOSITORY}:{digest(distributions)}"
    if docker.image_exists(image):
        return image  # made here, or loaded from an offline bundle (`demo.offline.load`)
    if not local_recipe():
        return ensure_published(log)
    if sys.version_info[:2] != DEBIAN_PYTHON:
        wanted = ".".join(map(str, DEBIAN_PYTHON))
        raise PythonImageError(
            f"the lab runs on Python {sys.version.split()[0]}, but the image's Debian has"
            f" {wanted}: their compiled libraries would not fit",
            f"make the lab's environment with Python {wanted} (make clean; PYTHON=python{wanted})",
        )
    base = f"{REPOSITORY}-base:" + hashlib.sha256(repr(BASE_PACKAGES).encode()).hexdigest()[:12]
    if not docker.image_exists(base):
        log(f"python image: Debian {rootfs.SUITE} with {', '.join(BASE_PACKAGES)} (a minute)")
        rootfs.debian_image(base, BASE_PACKAGES)
    log(f"python image {image}: the lab's code and {len(distributions)} libraries")
    with tempfile.TemporaryDirectory(prefix="tellit-pyimage-") as work:
        context = Path(work)
        for distribution in distributions:
            copy_distribution(distribution, context / "site")
        copy_code(context / "code")
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
        docker.build(image, context, timeout=600)
    remove_older(image)
    return image


def ensure_published(log=print) -> str:
    """The readers' recipe: the published Python image, the pinned libraries from PyPI."""
    distributions = closure()
    image = f"{REPOSITORY}:{digest(distributions)}-published"
    if docker.image_exists(image):
        return image
    log(f"python image {image}: {PUBLISHED_BASE}, git and {len(distributions)} libraries")
    with tempfile.TemporaryDirectory(prefix="tellit-pyimage-") as work:
        context = Path(work)
        (context / "requirements.txt").write_text(pinned(distributions))
        copy_code(context / "code")
        (context / "Dockerfile").write_text(PUBLISHED_DOCKERFILE)
        docker.build(image, context, timeout=900)
    remove_older(image)
    return image


def remove_older(image: str) -> None:
    """Earlier versions of the lab's code: one image each would pile up with every change."""
    for tag in docker.image_tags(REPOSITORY):
        if f"{REPOSITORY}:{tag}" != image:
            docker.remove_images(f"{REPOSITORY}:{tag}", force=False)  # in use: kept
