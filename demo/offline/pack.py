"""`make prefetch`: everything a workshop room needs for the lab, in one archive.

A facilitator runs it once where the network works; attendees load it with `make offline
BUNDLE=...` (`demo.offline.load`) and run `make demo PROVIDER=kind` with no network at all.

The archive is a plain tar (its biggest parts, the images, are compressed already or compress
poorly), `manifest.json` first: the sha256 and size of every other file, the versions pinned
and the platforms covered. Beside it, `<archive>.sha256` holds the archive's own sum.

- `bin/<os>-<arch>/kind` and `kubectl` for Linux and macOS on amd64 and arm64: cross-built
  from their Go modules (kind and kubectl's releases cannot be downloaded here), cached by
  version and platform in the tools cache;
- `images/node.tar`: the kind node image (the published `kindest/node` cannot be pulled here,
  so the lab's own, built by `make node-image`);
- `images/lab.tar`: the registry, the app's base image and the lab's Python image (the pull
  agent and the in-cluster git mirror);
- `wheels/`: the Python wheels of requirements/{site,lab,build}.lock for CPython 3.11 to 3.13
  on each platform, downloaded once into the cache;
- `site/`: the built site, to read offline.

`python -m demo.offline.pack --fetch-only` fills the caches and writes nothing else. `--platforms`
narrows a bundle to some platforms (`this`: this machine's): `make test` fills this machine's
caches only, and its round trip packs a bundle for this machine (cross-building kubectl for
three more platforms took most of ten minutes of a cold CI run); `make prefetch` makes the
room's bundle, for all four.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from demo.clusters.kind import nodeimage
from demo.core import docker, versions
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.git import try_git
from demo.core.paths import REPO, cache_root
from demo.core.platforms import this_platform
from demo.core.run import run
from demo.offline.load import file_sha256
from demo.toolchain import images, provision, pyimage

ROOT = REPO
LOCKS = ("requirements/site.lock", "requirements/lab.lock", "requirements/build.lock")
PYTHONS = ("3.11", "3.12", "3.13")
# The platform tags a wheel may carry for each platform. pip counts every older macOS as
# compatible with the one named, but takes manylinux tags only as listed.
MANYLINUX = ("manylinux2014", *(f"manylinux_2_{minor}" for minor in (17, 24, 26, 27, 28)))
WHEEL_PLATFORMS = {
    "linux-amd64": tuple(f"{tag}_x86_64" for tag in MANYLINUX),
    "linux-arm64": tuple(f"{tag}_aarch64" for tag in MANYLINUX),
    "darwin-amd64": ("macosx_12_0_x86_64",),
    "darwin-arm64": ("macosx_14_0_arm64",),
}
FORMAT = 1
Log = Callable[[str], None]


class BundleError(LabError):
    """The bundle could not be made."""


@dataclass(frozen=True)
class Entry:
    name: str  # the path inside the archive
    source: Path


ALL_PLATFORMS = tuple(f"{system}-{arch}" for system, arch in provision.PLATFORMS)


def platforms_arg(text: str) -> tuple[str, ...]:
    """`--platforms all`, `this` or a comma-separated list of os-arch names."""
    if text == "all":
        return ALL_PLATFORMS
    names = [this_platform() if name == "this" else name for name in text.split(",")]
    unknown = [name for name in names if name not in ALL_PLATFORMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown platform(s) {', '.join(unknown)}: use all, this, or of"
            f" {', '.join(ALL_PLATFORMS)}"
        )
    return tuple(dict.fromkeys(names))


def fetch_tools(lab: LabContext, platforms: tuple[str, ...] = ALL_PLATFORMS) -> list[Entry]:
    """kind and kubectl per platform; this machine's are the ones the lab already built."""
    entries = []
    for system, arch in provision.PLATFORMS:
        suffix = f"{system}-{arch}"
        if suffix not in platforms:
            continue
        if suffix == this_platform():
            wanted = (*provision.TOOLS, *provision.NODE_TOOLS)
            tools = tuple(t for t in wanted if t.name in ("kind", "kubernetes"))
        else:
            tools = provision.cross_tools(system, arch)
        provision.ensure(lab.tools, log=lab.log, tools=tools)
        found = provision.binaries(lab.tools, tools=tools)
        entries += [Entry(f"bin/{suffix}/{name}", found[name]) for name in ("kind", "kubectl")]
    return entries


def wheels_dir() -> Path:
    """The wheel cache, keyed by the lock files: a changed pin downloads into a new folder."""
    digest = hashlib.sha256(b"".join((ROOT / lock).read_bytes() for lock in LOCKS))
    return cache_root() / "wheels" / digest.hexdigest()[:12]


def fetch_wheels(log: Log, platforms: tuple[str, ...] = ALL_PLATFORMS) -> Path:
    """Every wheel of the lock files for each platform and Python, downloaded once."""
    folder = wheels_dir()
    folder.mkdir(parents=True, exist_ok=True)
    locks = [part for lock in LOCKS for part in ("-r", str(ROOT / lock))]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = folder / ".built"
    if not built.is_file():
        # A package published as source only gets a wheel built here (all such are pure
        # Python, so the wheel fits every platform); the per-platform downloads find it.
        log("wheels: this machine's, built where a package has no wheel")
        pip_run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(folder), *locks], "this machine")
        built.touch()
    combinations = [(p, v) for p in WHEEL_PLATFORMS if p in platforms for v in PYTHONS]
    for index, (name, version) in enumerate(combinations, start=1):
        stamp = folder / f".{name}-cp{version.replace('.', '')}"
        if stamp.is_file():
            continue
        log(f"[{index}/{len(combinations)}] wheels for CPython {version} on {name}")
        abi = f"cp{version.replace('.', '')}"
        command = [*pip, "download", "--quiet", "--only-binary=:all:", "-d", str(folder)]
        command += ["--find-links", str(folder)]
        for tag in WHEEL_PLATFORMS[name]:
            command += ["--platform", tag]
        # As the newest release of each line, so that a Requires-Python such as >=3.11.5
        # holds (pip would otherwise check against 3.11.0).
        command += ["--python-version", f"{version}.99", "--implementation", "cp"]
        command += ["--abi", abi, "--abi", "abi3", "--abi", "none", *locks]
        pip_run(command, f"CPython {version} on {name}")
        stamp.touch()
    return folder


def pip_run(command: list[str], what: str) -> None:
    try:
        run(command, timeout=900)
    except LabError as error:
        raise BundleError(
            f"pip could not get the wheels for {what}: {error.message[-600:]}",
            "check that PyPI is reachable (pip config list), then run it again",
        ) from error


def lab_images(log: Log) -> list[str]:
    """The images `make demo PROVIDER=kind` runs besides the node image, made if missing."""
    made = [images.ensure_registry_image(log), images.ensure_base_image(log=log)]
    return [*made, pyimage.ensure(log)]


def save_images(work: Path, lab: LabContext) -> tuple[list[Entry], dict[str, list[str]]]:
    log = lab.log
    node = nodeimage.ensure(lab.tools, log=log)
    key = node.rsplit("-", 1)[-1]
    archive = nodeimage.archive_path(key, lab.tools)
    if not archive.is_file():  # `make node-image` keeps one; a machine that pulled it has not
        archive = work / "node.tar"
        log(f"saving {node}")
        docker.save(archive, node)
    others = lab_images(log)
    log(f"saving {', '.join(others)}")
    docker.save(work / "lab.tar", *others)
    entries = [Entry("images/node.tar", archive), Entry("images/lab.tar", work / "lab.tar")]
    return entries, {"images/node.tar": [node], "images/lab.tar": others}


def site_entries(site: Path) -> list[Entry]:
    if not (site / "index.html").is_file():
        raise BundleError(f"{site} holds no built site", "run `make site` first")
    return [
        Entry(f"site/{path.relative_to(site).as_posix()}", path)
        for path in sorted(site.rglob("*"))
        if path.is_file()
    ]


def manifest(
    entries: list[Entry], images_in: dict[str, list[str]],
    platforms: tuple[str, ...] = ALL_PLATFORMS,
) -> dict:  # fmt: skip
    commit = try_git("rev-parse", "HEAD", cwd=ROOT, timeout=30).stdout.strip()
    return {
        "format": FORMAT,
        "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit,
        "versions": {
            "kind": versions.KIND,
            "kubernetes": versions.KUBERNETES,
            "kubectl": versions.KUBERNETES,
        },
        "platforms": list(platforms),
        "pythons": list(PYTHONS),
        "images": images_in,
        "files": {
            e.name: {"sha256": file_sha256(e.source), "size": e.source.stat().st_size}
            for e in entries
        },
    }


class HashingWriter:
    """A file that hashes what goes through it: the archive's own sum without reading it
    back."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.stream.write(data)

    def tell(self) -> int:
        return self.stream.tell()


def pack(entries: list[Entry], described: dict, output: Path, log: Log) -> str:
    """Write the archive whole or not at all; return its sha256 (also written beside it)."""
    partial = output.with_name(f".{output.name}.partial")
    text = json.dumps(described, indent=2, sort_keys=True).encode()
    try:
        with partial.open("wb") as raw:
            writer = HashingWriter(raw)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(text), int(time.time()), 0o644
                tar.addfile(info, fileobj=io.BytesIO(text))
                for index, entry in enumerate(entries, start=1):
                    if entry.name.startswith(("bin/", "images/")) or index % 200 == 0:
                        log(f"[{index}/{len(entries)}] {entry.name}")
                    info = tar.gettarinfo(str(entry.source), arcname=entry.name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with entry.source.open("rb") as stream:
                        tar.addfile(info, stream)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    digest = writer.digest.hexdigest()
    output.with_name(output.name + ".sha256").write_text(f"{digest}  {output.name}\n")
    return digest


def wheel_platforms(name: str) -> set[str]:
    """The bundle platforms a wheel file serves, from its platform tag (every platform for a
    pure-Python wheel; a macOS universal2 wheel serves both Macs)."""
    tag = name.removesuffix(".whl").rsplit("-", 1)[-1]
    if tag == "any":
        return set(ALL_PLATFORMS)
    found = set()
    if "linux" in tag:
        found |= {"linux-amd64"} if "x86_64" in tag else set()
        found |= {"linux-arm64"} if "aarch64" in tag else set()
    if "macosx" in tag:
        found |= {"darwin-amd64"} if ("x86_64" in tag or "universal2" in tag) else set()
        found |= {"darwin-arm64"} if ("arm64" in tag or "universal2" in tag) else set()
    return found


def fetch(
    lab: LabContext, work: Path, platforms: tuple[str, ...] = ALL_PLATFORMS
) -> tuple[list[Entry], dict[str, list[str]]]:
    """Fill every cache and save the images: what packing needs, without packing."""
    entries = fetch_tools(lab, platforms)
    folder = fetch_wheels(lab.log, platforms)
    entries += [
        Entry(f"wheels/{w.name}", w)
        for w in sorted(folder.glob("*.whl"))
        if wheel_platforms(w.name) & set(platforms)
    ]
    saved, images_in = save_images(work, lab)
    return entries + saved, images_in


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.offline.pack", description=__doc__.split("\n")[0]
    )
    parser.add_argument("output", nargs="?", default="tellit-offline.tar", type=Path)
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site")
    parser.add_argument("--fetch-only", action="store_true", help="fill the caches only")
    parser.add_argument(
        "--platforms", type=platforms_arg, default=ALL_PLATFORMS,
        help="all (the default: what a room of laptops needs), this, or os-arch,os-arch",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    lab = LabContext.from_environment(log)
    try:
        with tempfile.TemporaryDirectory(prefix="tellit-bundle-") as work:
            if args.fetch_only:
                fetch_tools(lab, args.platforms)
                fetch_wheels(log, args.platforms)
                log(f"caches filled for {', '.join(args.platforms)}: kind, kubectl, the wheels")
                return 0
            entries, images_in = fetch(lab, Path(work), args.platforms)
            entries += site_entries(args.site)
            log(f"hashing {len(entries)} files")
            described = manifest(entries, images_in, args.platforms)
            digest = pack(entries, described, args.output, log)
    except LabError as error:
        print(f"make prefetch: {error}", file=sys.stderr)
        return 1
    size = args.output.stat().st_size
    parts: dict[str, list[int]] = {}
    for name, file in described["files"].items():
        totals = parts.setdefault(name.split("/", 1)[0], [0, 0])
        totals[0], totals[1] = totals[0] + 1, totals[1] + file["size"]
    table = Table(title=f"The bundle: {size / 2**20:,.0f} MiB", title_justify="left")
    for column in ("part", "files", "MiB"):
        table.add_column(column, justify="left" if column == "part" else "right")
    for part, (count, total) in sorted(parts.items()):
        table.add_row(part, str(count), f"{total / 2**20:,.0f}")
    console = Console(highlight=False)
    console.print(table)
    console.print(f"{args.output}\nsha256 {digest} (also in {args.output.name}.sha256)")
    console.print(
        f"Made in {time.perf_counter() - started:.0f} s. Load it on each laptop with"
        f" `make offline BUNDLE={args.output}`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
