"""One version line, kept in one file: demo/core/versions.py. The site's copy is in step, no
other file spells a pinned version, and Flux is named as its users know it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import need
from support.paths import ROOT

from demo.cli.tools import VERSIONS_FILE, versions_text
from demo.core import versions

# What the lab writes from the pins (results, recordings, the room, the site's copy) and what
# tests feed to pure functions as data: these may spell a version; nothing else may.
WRITTEN = ("docs/lab/results/", "docs/lab/recordings/", "tests/site/fixtures/")
WRITTEN_FILES = {"docs/lab/versions.json", "docs/workshop/room.json", "demo/core/versions.py"}
WRITTEN_FILES.add("tests/lab/unit/test_versions.py")  # the scan's own examples


def pinned() -> set[str]:
    """Every Kubernetes, kind and Flux version the lab pins, as spelled in a file."""
    return {
        versions.KUBERNETES,
        versions.KIND,
        versions.KIND_NODE_KUBERNETES,
        versions.KIND_KUBECTL,
        versions.FLUX,
        versions.FLUX_RELEASE,
        versions.KIND_NODE_IMAGE.split("@sha256:")[1][:12],
    }


# A version spelled after a name, whatever its value: `kind v0.29.0`, `Flux v2.9.5`,
# `kindest/node:v1.33.1`, `Kubernetes 1.36.3`.
NAMED = re.compile(
    r"(?i)\b(kubernetes|kind|kubectl|flux|kindest/node|source-controller|kustomize-controller)"
    r"[ :@]+v?\d+\.\d+\.\d+"
)


def spelled(text: str, values: set[str]) -> list[str]:
    """The pinned values and named versions `text` spells."""
    found = [value for value in values if re.search(rf"(?<![\w.]){re.escape(value)}\b", text)]
    return found + [match.group(0) for match in NAMED.finditer(text)]


def tracked_files() -> list[str]:
    need(shutil.which("git") is not None and (ROOT / ".git").exists(), "git and the clone")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


def test_no_file_but_the_pins_spells_a_kubernetes_kind_or_flux_version():
    values = pinned()
    found = {}
    for name in tracked_files():
        if name in WRITTEN_FILES or name.startswith(WRITTEN):
            continue
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # pictures, fonts; a file deleted in the work tree
        if spells := spelled(text, values):
            found[name] = spells
    assert not found, (
        f"name versions through demo/core/versions.py (or #!lab versions:...): {found}"
    )


def test_the_scan_sees_a_pinned_value_and_a_named_version():
    values = {"v1.90.3"}
    assert spelled("the lab runs v1.90.3 here", values) == ["v1.90.3"]
    assert spelled("readers get kind v0.90.0 and kindest/node:v1.91.1", set()) == [
        "kind v0.90.0",
        "kindest/node:v1.91.1",
    ]
    assert spelled("busybox:1.35.0 and lightkube-models==1.90.3.8", values) == []


def test_the_site_s_copy_of_the_pins_is_in_step():
    assert VERSIONS_FILE.read_text() == versions_text(), (
        "run `python -m demo versions --write` and commit docs/lab/versions.json"
    )


def test_flux_is_named_as_its_users_know_it():
    assert versions.flux_name("v1.70.5", "v2.70.5") == (
        "Flux v2.70.5 (source-controller v1.70.5, kustomize-controller v1.70.5)"
    )
    assert versions.flux_name("v1.70.6").startswith("Flux v2.70 (source-controller v1.70.6")
    # kwok runs the release's own controllers, built here: one Flux in the whole lab.
    pins = {pin.name: pin.version for pin in versions.pins()}
    assert pins["Flux on kind"] == pins["Flux on kwok"]


def test_readers_kubectl_and_node_image_are_one_minor():
    assert versions.minor(versions.KIND_KUBECTL) == versions.minor(versions.KIND_NODE_KUBERNETES)
    assert re.fullmatch(r"kindest/node:v[0-9.]+@sha256:[0-9a-f]{64}", versions.KIND_NODE_IMAGE)


def test_versions_prints_one_table_and_its_json_is_the_site_s():
    shown = subprocess.run(
        [sys.executable, "-m", "demo", "versions"],
        cwd=ROOT, capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "What the lab runs" in shown.stdout
    for pin in versions.pins():
        assert pin.name in shown.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "demo", "versions", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(as_json.stdout) == json.loads(VERSIONS_FILE.read_text())


@pytest.mark.provisioned
def test_readers_node_image_is_kind_s_own_default():
    """kind's release names its default node image in its source: the pin is that one."""
    need(shutil.which("go") is not None, "Go (make provision)")
    cache = subprocess.run(
        ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True
    ).stdout.strip()
    source = Path(cache) / f"sigs.k8s.io/kind@{versions.KIND}/pkg/apis/config/defaults/image.go"
    need(source.is_file(), f"kind {versions.KIND}'s module in the Go module cache (make provision)")
    assert f'const Image = "{versions.KIND_NODE_IMAGE}"' in source.read_text()
