"""The workshop's offline bundle: what `make offline` refuses (a damaged, changed or cut-short
bundle, a file named outside it) on small bundles made here, and the round trip for real:
`make prefetch`'s archive made, the lab's images removed, the bundle loaded into a fresh
clone with a fresh cache and no network, then `make demo PROVIDER=kind` green."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from support.helpers import need
from support.kind_lab import KIND_LAB
from support.lab import lab_at, need_docker
from support.paths import ROOT

from demo.core import versions
from demo.core.paths import tools_dir
from demo.experiments import bundle as trip
from demo.lab.teardown import down
from demo.offline import load as offline
from demo.offline.pack import PYTHONS
from demo.toolchain import provision

LINE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def small_bundle(path: Path, files: dict[str, bytes], manifest_files: dict | None = None) -> Path:
    described = {
        "format": 1,
        "commit": "test",
        "versions": {"kind": versions.KIND, "kubernetes": versions.KUBERNETES},
        "platforms": [offline.this_platform()],
        "pythons": [LINE],
        "images": {},
        "files": manifest_files
        if manifest_files is not None
        else {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in files.items()
        },
    }
    with tarfile.open(path, "w") as tar:
        for name, data in {"manifest.json": json.dumps(described).encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def unpack(bundle: Path, tmp_path: Path) -> Path:
    staging = tmp_path / "staging"
    staging.mkdir(exist_ok=True)
    offline.unpack(bundle, staging, offline.Report())
    return staging


def test_a_good_bundle_unpacks_every_file_checked(tmp_path):
    files = {"bin/x/kind": b"kind", "site/index.html": b"<html>"}
    staging = unpack(small_bundle(tmp_path / "b.tar", files), tmp_path)
    assert (staging / "site" / "index.html").read_bytes() == b"<html>"


def test_a_changed_file_is_refused_naming_it(tmp_path):
    good = {"bin/x/kind": {"sha256": hashlib.sha256(b"kind").hexdigest(), "size": 4}}
    bundle = small_bundle(tmp_path / "b.tar", {"bin/x/kind": b"evil"}, good)
    with pytest.raises(offline.BundleRefused, match=r"bin/x/kind has sha256 .* copy the bundle"):
        unpack(bundle, tmp_path)


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path):
    bundle = small_bundle(tmp_path / "b.tar", {"extra": b"x"}, manifest_files={})
    with pytest.raises(offline.BundleRefused, match="extra is not in its manifest"):
        unpack(bundle, tmp_path)


def test_a_name_outside_the_bundle_is_refused(tmp_path):
    bundle = small_bundle(tmp_path / "b.tar", {"../escape": b"x"})
    with pytest.raises(offline.BundleRefused, match="outside the bundle"):
        unpack(bundle, tmp_path)
    assert not (tmp_path / "escape").exists()


def test_a_cut_short_bundle_is_refused(tmp_path):
    files = {"images/lab.tar": os.urandom(300_000)}
    bundle = small_bundle(tmp_path / "b.tar", files)
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 2])
    with pytest.raises(offline.BundleRefused, match="copy it again"):
        unpack(bundle, tmp_path)


def test_the_archive_sum_beside_it_is_checked_first(tmp_path):
    bundle = small_bundle(tmp_path / "b.tar", {"a": b"a"})
    (tmp_path / "b.tar.sha256").write_text("0" * 64 + "  b.tar\n")
    with pytest.raises(offline.BundleRefused, match="damaged or not this bundle"):
        offline.check_archive(bundle, offline.Report())


def test_a_bundle_for_other_versions_or_pythons_says_what_to_do():
    described = {
        "format": 1,
        "platforms": [offline.this_platform()],
        "pythons": ["3.99"],
        "versions": {},
    }
    assert "make offline PYTHON=" in offline.check_manifest(described)
    described["pythons"] = [LINE]
    assert "make the bundle from the same commit" in offline.check_manifest(described)
    described["platforms"] = ["plan9-mips"]
    assert "no kind and kubectl for" in offline.check_manifest(described)


def test_the_loader_imports_nothing_but_the_standard_library():
    """It runs before the virtual environment exists: a fresh interpreter, no site-packages."""
    probe = "import demo.offline.load, sys; print(sorted(m.split('.')[0] for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert not {"rich", "requests", "yaml", "lightkube"} & set(eval(result.stdout))


def test_a_room_s_bundle_serves_every_platform_and_a_narrow_one_only_its_own():
    from demo.offline.pack import ALL_PLATFORMS, platforms_arg, wheel_platforms

    assert platforms_arg("all") == ALL_PLATFORMS == (
        "linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64",
    )  # fmt: skip
    assert platforms_arg("this") == (offline.this_platform(),)
    with pytest.raises(Exception, match="unknown platform"):
        platforms_arg("windows-amd64")
    assert wheel_platforms("rich-15.0.0-py3-none-any.whl") == set(ALL_PLATFORMS)
    tags = {
        "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl":
            {"linux-amd64"},
        "psutil-7.2.2-cp36-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl":
            {"linux-arm64"},
        "pillow-13.0.0-cp312-cp312-macosx_11_0_arm64.whl": {"darwin-arm64"},
        "pyyaml-6.0.4-cp313-cp313-macosx_10_13_x86_64.whl": {"darwin-amd64"},
        "charset-3.4.2-cp311-cp311-macosx_10_9_universal2.whl": {"darwin-amd64", "darwin-arm64"},
        "thing-1.0-cp311-cp311-win_amd64.whl": set(),
    }  # fmt: skip
    for name, expected in tags.items():
        assert wheel_platforms(name) == expected, name
    # Make's own targets: `make prefetch` bundles every platform, `make test` fills this one's.
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/python -m demo.offline.pack $(BUNDLE)\n" in makefile
    assert "python -m demo.offline.pack --fetch-only --platforms this" in makefile


# The round trip, for real, with the offline-bundle experiment's own steps. It removes the
# lab's images and loads them back from the bundle, so it runs with the kind tests in a serial
# run and by itself after a parallel one (never beside another lab).
@pytest.mark.kind
@pytest.mark.alone
def test_the_bundle_round_trip_leaves_a_laptop_ready_for_make_demo_with_no_network(
    tmp_path, request
):
    need_docker()
    # The session's background kind lab (conftest) is done with by now; when this test runs
    # alone it is still coming up: end it, as its images are about to be removed.
    background = request.config.stash.get(KIND_LAB, None)
    if background is not None:
        background.stop()
        down(lab_at(background.state))
    need(LINE in PYTHONS, f"a Python the bundle carries wheels for ({', '.join(PYTHONS)})")
    need(shutil.which("unshare") is not None, "unshare (util-linux), to load with no network")
    missing = [t.name for t in provision.missing(tools_dir(), tools=provision.NODE_TOOLS)]
    need(not missing, f"the kind tools ({', '.join(missing)}): run `make test`, which builds them")
    env = trip.clean_env()

    # The facilitator: the site, then the bundle, from the caches `make test` filled. For
    # this machine's platform only: cross-building kubectl for three more took most of ten
    # minutes of a cold CI run; `make prefetch` (and the offline-bundle experiment) make the
    # four-platform bundle, whose choice of files the test below checks.
    bundle, packed, described = trip.pack(tmp_path, env, platforms="this")
    here = offline.this_platform()
    assert described["platforms"] == [here]
    assert {f"bin/{here}/kind", f"bin/{here}/kubectl"} <= set(described["files"])
    assert not any(n.startswith("bin/") and here not in n for n in described["files"])
    parts = trip.sizes(described)
    assert all(parts[part] > 0 for part in trip.PARTS), parts

    # An attendee's laptop: a fresh clone, an empty cache, none of the lab's images.
    laptop = tmp_path / "laptop"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(laptop)], check=True)
    images = [tag for tags in described["images"].values() for tag in tags]
    laptop_env = trip.laptop_env(tmp_path, env)
    loaded, demo = trip.without_images(
        images, lambda: trip.on_the_laptop(bundle, laptop, laptop_env)
    )
    assert "every sha256 matches" in loaded.output and "nothing downloaded" in loaded.output
    assert (laptop / "site" / "index.html").is_file()
    assert (tmp_path / "cache" / "tools" / f"kind-{versions.KIND}" / "kind").is_file()
    assert demo.output.count("check: ok") == 3, demo.output[-3000:]
    # The images are back for the tests after this one.
    assert (
        subprocess.run(["docker", "image", "inspect", *images], capture_output=True).returncode == 0
    )
    size = bundle.stat().st_size / 2**20
    print(
        f"\nbundle {size:,.0f} MiB: packed in {packed.seconds:.0f} s, loaded in"
        f" {loaded.seconds:.0f} s, make demo in {demo.seconds:.0f} s"
    )
