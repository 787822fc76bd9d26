"""`make offline BUNDLE=...`: an attendee's laptop made ready for `make demo`, with no network.

Checks the bundle `make prefetch` wrote (`demo.offline.pack`) before using any of it: the archive's
own sum where its `.sha256` lies beside it, then every file against the manifest while it is
unpacked into a staging folder. Only when everything matches does it install this machine's
kind and kubectl into the tools cache, load the images into Docker, make the virtual
environment from the wheels and put the built site in `site/`. A damaged or cut-short bundle
changes nothing.

Standard library only: it runs before the lab's virtual environment exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from demo.core import docker, versions
from demo.core.errors import LabError
from demo.core.paths import REPO, cache_root, tools_dir
from demo.core.platforms import this_platform
from demo.core.run import attempt

ROOT = REPO
VENV = ROOT / ".venv"
STAMPS = (".site-installed", ".lab-installed")
CHUNK = 1 << 20


class BundleRefused(Exception):
    """The bundle is not one to load; the message says which file and what to do."""


@dataclass
class Report:
    """What the load did, step by step, for the summary at the end."""

    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[str, str, float]] = field(default_factory=list)
    mark: float = field(default_factory=time.perf_counter)

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f} s] {message}", flush=True)

    def done(self, step: str, detail: str) -> None:
        now = time.perf_counter()
        self.steps.append((step, detail, now - self.mark))
        self.mark = now
        self.say(f"{step}: {detail}")

    def table(self) -> str:
        width = max(len(step) for step, _, _ in self.steps)
        lines = [f"{'step':{width}}  {'seconds':>7}  what", f"{'-' * width}  -------  ----"]
        lines += [f"{s:{width}}  {t:7.1f}  {d}" for s, d, t in self.steps]
        total = time.perf_counter() - self.started
        lines.append(f"{'total':{width}}  {total:7.1f}")
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_archive(bundle: Path, report: Report) -> None:
    """The archive's own sum, where `make prefetch` left it beside the archive."""
    sums = bundle.with_name(bundle.name + ".sha256")
    if not sums.is_file():
        report.done("archive sum", f"no {sums.name} beside it: each file is still checked")
        return
    expected = sums.read_text().split()[0]
    found = file_sha256(bundle)
    if found != expected:
        raise BundleRefused(
            f"{bundle}: its sha256 is {found}, {sums.name} says {expected}; the copy is damaged"
            " or not this bundle: copy it again from the facilitator's"
        )
    report.done("archive sum", f"sha256 {found[:16]}... matches {sums.name}")


def safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BundleRefused(f"the bundle holds a file named {name!r}, outside the bundle")
    return path


def unpack(bundle: Path, staging: Path, report: Report) -> dict:
    """Every file out of the archive into `staging`, each hashed as it is written and
    compared with the manifest; a missing, extra or changed file refuses the bundle."""
    try:
        with tarfile.open(bundle, mode="r|") as tar:
            return unpack_members(tar, bundle, staging, report)
    except (OSError, EOFError, ValueError, KeyError, tarfile.TarError) as error:
        raise BundleRefused(
            f"{bundle}: cannot be read to its end ({error}); copy it again"
        ) from error


def unpack_members(tar: tarfile.TarFile, bundle: Path, staging: Path, report: Report) -> dict:
    first = tar.next()
    if first is None or first.name != "manifest.json":
        raise BundleRefused(f"{bundle}: manifest.json is not its first file")
    described = json.loads(tar.extractfile(first).read())  # type: ignore[union-attr]
    problems = check_manifest(described)
    if problems:
        raise BundleRefused(f"{bundle}: {problems}")
    files: dict = described["files"]
    seen = set()
    for member in tar:
        if member is first:  # iterating a tar starts again from its first member
            continue
        name = member.name
        safe_name(name)
        if not member.isfile() or name not in files:
            raise BundleRefused(
                f"{bundle}: {name} is not in its manifest; the bundle was changed after"
                " `make prefetch`: make it again"
            )
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        source = tar.extractfile(member)
        with target.open("wb") as stream:
            while chunk := source.read(CHUNK):  # type: ignore[union-attr]
                digest.update(chunk)
                stream.write(chunk)
        if digest.hexdigest() != files[name]["sha256"]:
            raise BundleRefused(
                f"{bundle}: {name} has sha256 {digest.hexdigest()}, the manifest says"
                f" {files[name]['sha256']}: copy the bundle again"
            )
        seen.add(name)
        if name.startswith(("bin/", "images/")):
            report.say(f"checked {name} ({files[name]['size'] / 2**20:,.0f} MiB)")
    missing = sorted(set(files) - seen)
    if missing:
        raise BundleRefused(
            f"{bundle}: {len(missing)} file(s) of its manifest are missing, first"
            f" {missing[0]}: the copy is cut short; copy it again"
        )
    size = sum(f["size"] for f in files.values())
    report.done("check", f"{len(files)} files, {size / 2**20:,.0f} MiB, every sha256 matches")
    return described


def check_manifest(described: dict) -> str:
    """What makes this bundle unusable here, or "" when it can be loaded."""
    if described.get("format") != 1:
        return f"manifest format {described.get('format')!r}; this lab reads format 1"
    here = this_platform()
    if here not in described.get("platforms", []):
        return f"it has no kind and kubectl for {here} (it has {described.get('platforms')})"
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if python not in described.get("pythons", []):
        return (
            f"it has wheels for Python {', '.join(described.get('pythons', []))}, this is"
            f" {python}: run `make offline PYTHON=python3.12` (or another it has)"
        )
    wanted = {"kind": versions.KIND, "kubernetes": versions.KUBERNETES}
    for name, version in wanted.items():
        if described.get("versions", {}).get(name) != version:
            return (
                f"it carries {name} {described.get('versions', {}).get(name)}, this checkout"
                f" pins {version}: make the bundle from the same commit ({described.get('commit')})"
            )
    return ""


def install_tools(staging: Path, report: Report) -> None:
    """This machine's kind and kubectl, where the lab looks for them
    (`demo.toolchain.provision`)."""
    here = this_platform()
    for name, version in (("kind", versions.KIND), ("kubectl", versions.KUBERNETES)):
        folder = tools_dir() / f"{name}-{version}"
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        shutil.copy2(staging / "bin" / here / name, partial / name)
        (partial / name).chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    report.done("tools", f"kind {versions.KIND} and kubectl {versions.KUBERNETES} for {here}")


def load_images(staging: Path, described: dict, report: Report) -> None:
    for name, tags in described["images"].items():
        result = docker.try_docker("load", "-i", staging / name, timeout=1800)
        if not result.ok:
            raise BundleRefused(
                f"docker load of {name} failed: {result.stderr.strip()[-400:]}; start Docker"
                " (Docker Desktop, or `sudo systemctl start docker`) and run it again"
            )
        report.done(f"docker load {PurePosixPath(name).name}", ", ".join(tags))
        (staging / name).unlink()  # a gigabyte that Docker holds now


def make_venv(staging: Path, report: Report) -> None:
    """The lab's virtual environment from the bundle's wheels, as the Makefile would make it."""
    wheels = cache_root() / "offline" / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging / "wheels"), wheels)
    if not (VENV / "bin" / "python").is_file():
        made = attempt([sys.executable, "-m", "venv", str(VENV)], timeout=300)
        if not made.ok:
            raise BundleRefused(
                f"python -m venv {VENV} failed: {made.output(600)}; on Debian or Ubuntu"
                " `apt-get install python3-venv`, then run it again"
            )
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    pip += ["--disable-pip-version-check", "--no-index", "--find-links", str(wheels)]
    for arguments in (
        ["-r", "requirements/site.lock", "-r", "requirements/lab.lock"],
        ["--no-deps", "-e", "."],
    ):
        result = attempt([*pip, *arguments], cwd=ROOT, timeout=1800)
        if not result.ok:
            raise BundleRefused(
                f"pip install {' '.join(arguments)} from the bundle's wheels failed:"
                f" {result.stderr.strip()[-600:]}"
            )
    for stamp in STAMPS:  # the Makefile's own record that the environment is installed
        (VENV / stamp).touch()
    count = len(list(wheels.glob("*.whl")))
    report.done("python", f".venv from {count} wheels, nothing downloaded")


def place_site(staging: Path, report: Report) -> None:
    site = ROOT / "site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.move(str(staging / "site"), site)
    report.done("site", "site/ (open site/index.html, or `make serve`)")


def load(bundle: Path) -> Report:
    report = Report()
    if not bundle.is_file():
        raise BundleRefused(f"{bundle}: no such file; give the path of the bundle's .tar")
    check_archive(bundle, report)
    staging = cache_root() / "offline" / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        described = unpack(bundle, staging, report)
        install_tools(staging, report)
        load_images(staging, described, report)
        make_venv(staging, report)
        place_site(staging, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0]:
        print("usage: make offline BUNDLE=path/to/tellit-offline.tar", file=sys.stderr)
        return 2
    try:
        report = load(Path(argv[0]).expanduser())
    except BundleRefused as error:
        print(f"make offline: {error}", file=sys.stderr)
        return 1
    except LabError as error:  # a command that could not start or did not finish
        print(f"make offline: {error}", file=sys.stderr)
        return 1
    print()
    print(report.table())
    print("\nReady: `make demo PROVIDER=kind` needs no network now.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
