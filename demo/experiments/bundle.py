"""The workshop's offline bundle, measured end to end: what a facilitator carries and how long
an attendee's laptop takes from the bundle to a finished `make demo PROVIDER=kind`.

The facilitator's side: the site built, then `python -m demo.offline.pack` (what `make prefetch`
runs) packing from the caches `make test` filled; its size is read from the manifest, by part.
The attendee's side: a fresh clone with an empty cache and none of the lab's images, `make
offline` in a network namespace of its own (no network at all, only Docker's socket), then
`make demo PROVIDER=kind`. The lab's images are put back afterwards, whatever happened.
The round-trip test runs the same steps (tests/lab/unit/test_offline_bundle.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo.clusters.kind import nodeimage
from demo.core import docker
from demo.core.entrypoints import python_m
from demo.core.errors import LabError
from demo.core.git import WorkTree, author_env
from demo.core.run import attempt
from demo.experiments.results import ROOT, Result
from demo.offline.pack import lab_images

NAME = "offline-bundle"
TITLE = "The workshop's offline bundle: its size, and a laptop from the bundle to the lab"
CLAIM = (
    "A room with poor wifi can still run the lab: one archive carries everything, and an"
    " attendee's laptop loads it and runs make demo with no network."
)
PARTS = {"images": "images", "wheels": "wheels", "bin": "kind and kubectl", "site": "the site"}


@dataclass(frozen=True)
class Timed:
    output: str
    seconds: float


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Timed:
    """Run `command`; its output and how long it took, or LabError with its output's end."""
    started = time.perf_counter()
    done = attempt(command, cwd=cwd, env=env, timeout=timeout)
    took = time.perf_counter() - started
    if not done.ok:
        raise LabError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-2000:]}",
            "fix what it says, then run the experiment again",
        )
    return Timed(done.stdout, took)


def clean_env() -> dict[str, str]:
    """This process's environment without the lab's own settings (a reader's shell)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELLIT_", "VIRTUAL_ENV"))}
    return {**base, "COLUMNS": "200"}


def pack(work: Path, env: dict[str, str], platforms: str = "all") -> tuple[Path, Timed, dict]:
    """The facilitator: the site, then the bundle (for `platforms`: all, what a room needs,
    or this machine's); the archive, its packing, its manifest."""
    site = work / "site"
    run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], ROOT, env, 600)
    bundle = work / "tellit-offline.tar"
    packed = run(
        [*python_m("pack"), str(bundle), "--site", str(site),
         "--platforms", platforms], ROOT, env, 1800,
    )  # fmt: skip
    with tarfile.open(bundle) as tar:
        described = json.loads(tar.extractfile("manifest.json").read())
    shutil.rmtree(site)
    return bundle, packed, described


def laptop_env(work: Path, env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        "TELLIT_CACHE": str(work / "cache"),
        "TELLIT_LAB_STATE": str(work / "lab"),
        "GOPROXY": "off",
        "PIP_NO_INDEX": "1",
    }


def on_the_laptop(bundle: Path, laptop: Path, env: dict[str, str]) -> tuple[Timed, Timed]:
    """A fresh clone loads the bundle with no network, then runs the lab; the two steps."""
    loaded = run(
        ["unshare", "--net", "make", "--no-print-directory", "offline", f"BUNDLE={bundle}"],
        laptop, env, 1800,
    )  # fmt: skip
    try:
        demo = run(["make", "--no-print-directory", "demo", "PROVIDER=kind"], laptop, env, 1800)
    finally:
        attempt(
            [str(laptop / ".venv" / "bin" / "python"), "-m", "demo", "down"],
            cwd=laptop, env=env, timeout=600,
        )  # fmt: skip  # best effort: the experiment's own teardown checks what is left
    return loaded, demo


def without_images(images: list[str], then: Callable[[], object]) -> object:
    """`then()` with the lab's images removed from Docker, put back afterwards (by the bundle
    if it loaded them, made again otherwise)."""
    docker.remove_images(*images)
    if docker.image_exists(*images):
        raise LabError("the lab's images could not be removed", "is a container using them?")
    try:
        return then()
    finally:
        restore_images(images)


def restore_images(images: list[str]) -> None:
    if docker.image_exists(*images):
        return
    nodeimage.ensure(log=lambda message: None)
    lab_images(log=lambda message: None)


def sizes(described: dict) -> dict[str, int]:
    """Bytes per part of the bundle, from its manifest."""
    found = dict.fromkeys(PARTS, 0)
    for name, entry in described["files"].items():
        top = name.split("/", 1)[0]
        if top in found:
            found[top] += entry["size"]
    return found


def run_experiment(size: str, progress: Callable[[str], None]) -> Result:
    result = Result(
        NAME, TITLE, CLAIM, "kind", size,
        {"platforms": [], "pythons": [], "network_while_loading": "none (unshare --net)"},
        started=time.perf_counter(),
    )  # fmt: skip
    env = clean_env()
    with tempfile.TemporaryDirectory(prefix="tellit-bundle-") as scratch:
        work = Path(scratch)
        progress(f"{NAME}: the site, then the bundle from the caches")
        bundle, packed, described = pack(work, env)
        result.parameters.update(platforms=described["platforms"], pythons=described["pythons"])
        laptop = work / "laptop"
        WorkTree.clone(
            str(ROOT), laptop, author_env("attendee", "attendee@tellit.invalid"), timeout=300
        )
        images = [tag for tags in described["images"].values() for tag in tags]
        progress(f"{NAME}: a fresh clone loads it with no network, then make demo PROVIDER=kind")
        loaded, demo = without_images(
            images, lambda: on_the_laptop(bundle, laptop, laptop_env(work, env))
        )
        total = bundle.stat().st_size
    parts = sizes(described)
    result.samples = [
        {"series": "the bundle", "part": "all", "bytes": total},
        *({"series": "the bundle", "part": part, "bytes": parts[part]} for part in PARTS),
        {"series": "make prefetch (caches filled)", "seconds": round(packed.seconds, 1)},
        {"series": "make offline", "seconds": round(loaded.seconds, 1)},
        {"series": "make demo PROVIDER=kind, after it", "seconds": round(demo.seconds, 1)},
    ]
    result.summary = [
        {"series": f"bundle size: {PARTS.get(s['part'], 'all')}", "unit": "B", "n": 1,
         "median": s["bytes"], "min": s["bytes"], "max": s["bytes"]}
        for s in result.samples[: len(PARTS) + 1]
    ] + [
        {"series": s["series"], "unit": "s", "n": 1, "median": s["seconds"],
         "min": s["seconds"], "max": s["seconds"]}
        for s in result.samples[len(PARTS) + 1 :]
    ]  # fmt: skip
    return result
