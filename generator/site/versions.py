"""The versions box: the `lab-versions` fence of pymdownx.superfences.

    ```lab-versions
    show: table          # every pin: what, version, where the lab uses it
    ```

    ```lab-versions
    show: flux-install   # the command readers type to install Flux on kind
    ```

Reads docs/lab/versions.json, which the lab writes (`python -m demo versions --write`; the
site never imports the lab, and a test keeps the file in step with the lab's pins). Pages
quote one version with `#!lab versions:readers:kubernetes` (generator/site/numbers.py), so no
page spells a version itself.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from .fences import loud
from .results import ResultFenceError, fence_yaml, read_inside, results_dir, table_html

SHOWS = ("table", "flux-install")
ANCHOR = "lab-versions"  # the lab page's heading above the box, which captions link to
REMEDY = "run `python -m demo versions --write`"
PIN_FIELDS = ("name", "version", "where", "note")
LINES = ("readers", "lab")  # each a mapping of component to version, quoted by pages
INSTALL_URL = re.compile(
    r"https://github\.com/fluxcd/flux2/releases/download/v[0-9.]+/install\.yaml"
)


def versions_path(results: Path) -> Path:
    """Beside the results folder: docs/lab/versions.json."""
    return results.parent / "versions.json"


def load_versions(results: Path) -> dict:
    """versions.json, every field the site prints checked; ResultFenceError saying the fix."""
    path = versions_path(results)
    try:
        data = json.loads(read_inside(path, path.parent, REMEDY))
    except ValueError as error:
        raise ResultFenceError(f"{path} is not JSON ({error}): {REMEDY}") from None
    if not isinstance(data, dict):
        raise ResultFenceError(f"{path} must hold one JSON object: {REMEDY}")
    for line in LINES:
        found = data.get(line)
        if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
            raise ResultFenceError(f"{path}: '{line}' must map components to versions: {REMEDY}")
    pins = data.get("pins")
    if not isinstance(pins, list) or not pins:
        raise ResultFenceError(f"{path}: 'pins' must be a list of pins: {REMEDY}")
    for number, pin in enumerate(pins, 1):
        if not isinstance(pin, dict) or not all(isinstance(pin.get(f), str) for f in PIN_FIELDS):
            raise ResultFenceError(
                f"{path}: pin {number} needs the text fields {list(PIN_FIELDS)}: {REMEDY}"
            )
    flux = data.get("flux")
    url = flux.get("install_url") if isinstance(flux, dict) else None
    if not isinstance(url, str) or not INSTALL_URL.fullmatch(url):
        raise ResultFenceError(
            f"{path}: flux.install_url must be a release's install.yaml on github.com: {REMEDY}"
        )
    return data


def as_result(results: Path) -> dict:
    """versions.json as a result `#!lab` reads: one summary row per line (readers, lab)."""
    data = load_versions(results)
    rows = [{"series": line, **data[line]} for line in LINES]
    return {"_name": "versions.json", "_target": f"lab/#{ANCHOR}", "summary": rows}


def summary(data: dict) -> str:
    """The box folded, in one line: what readers run (the table has every pin)."""
    readers = data["readers"]
    return (
        f"kind {readers['kind']}, Kubernetes {readers['kubernetes']}, {readers['flux']}:"
        f" every version the lab pins ({len(data['pins'])})"
    )


def table(data: dict) -> str:
    rows = [[pin["name"], pin["version"], pin["where"], pin["note"]] for pin in data["pins"]]
    return table_html(["what", "version", "where the lab uses it", "note"], rows)


def flux_install(data: dict) -> str:
    """Flux's install as readers type it: marked illustrative, since its images come from
    ghcr.io, which the lab's own machines cannot reach."""
    command = f"kubectl apply --server-side -f {data['flux']['install_url']}"
    return (
        '<div class="illustrative lab-versions__command">'
        f"<pre><code>{html.escape(command)}</code></pre></div>"
    )


@loud("lab-versions")
def format_versions(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter of the `lab-versions` fence."""
    spec = fence_yaml(src, "lab-versions")
    show = spec.get("show") if isinstance(spec, dict) else None
    if show not in SHOWS or set(spec) != {"show"}:
        raise ResultFenceError(f"a lab-versions fence takes `show:` one of {list(SHOWS)}")
    data = load_versions(results_dir())
    if show == "flux-install":
        return flux_install(data)
    return (
        '<details class="lab-versions"><summary class="lab-versions__title">'
        f"{html.escape(summary(data))}</summary>"
        f'<div class="md-typeset__scrollwrap"><div class="md-typeset__table">{table(data)}'
        "</div></div></details>"
    )
