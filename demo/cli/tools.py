"""The lab's tools: `provision` (Kubernetes tools from Go modules), `node-image`, and
`versions` (every pin, and the site's copy of them)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from demo.cli.output import Out, add_json_flag, wants_json
from demo.clusters.kind import nodeimage
from demo.core import versions
from demo.core.paths import REPO, write_atomic
from demo.lab import doctor
from demo.toolchain import provision
from demo.toolchain.images import ensure_base_image


def register(commands) -> None:
    tools = commands.add_parser(
        "provision",
        help="build the lab's Kubernetes tools from Go modules and make the app's base image",
    )
    tools.set_defaults(handler=command_provision)
    node = commands.add_parser(
        "node-image",
        help="build the kind node image here (for machines that cannot pull kindest/node)",
        description=nodeimage.__doc__.split("\n\n")[0],
    )
    node.add_argument(
        "--if-needed",
        action="store_true",
        help="only when the published kindest/node can be neither found nor pulled",
    )
    node.set_defaults(handler=command_node_image)
    pinned = commands.add_parser(
        "versions",
        help="every version the lab pins: kind, its node image, kubectl, Kubernetes, Flux",
    )
    pinned.add_argument(
        "--write",
        nargs="?",
        type=Path,
        const=VERSIONS_FILE,
        metavar="FILE",
        help="also write them for the site's versions box (default: %(const)s)",
    )
    add_json_flag(pinned)
    pinned.set_defaults(handler=command_versions)


# The site's copy of the pins (its versions box reads it; a test keeps it in step).
VERSIONS_FILE = REPO / "docs" / "lab" / "versions.json"


def versions_text() -> str:
    """docs/lab/versions.json as `versions --write` writes it."""
    return json.dumps(versions.document(), indent=2, ensure_ascii=False) + "\n"


def command_versions(args, out: Out) -> int:
    if args.write:
        write_atomic(args.write, versions_text(), mode=0o644)
    if wants_json(args):
        out.emit(versions.document())
        return 0
    table = Table(title="What the lab runs", title_justify="left")
    for column in ("what", "version", "where", "note"):
        table.add_column(column)
    for pin in versions.pins():
        table.add_row(pin.name, pin.version, pin.where, pin.note)
    out.out.print(table)
    if args.write:
        out.out.print(f"written for the site: {args.write}")
    return 0


def build_tools(console: Console, tools: Path) -> None:
    with console.status("building the lab's tools from Go modules (minutes, once)") as status:

        def log(message: str) -> None:
            status.update(message)
            console.log(message)

        provision.ensure(tools, log=log, tools=provision.TOOLS + provision.FLUX_TOOLS)


def command_provision(args, out: Out) -> int:
    console = out.out
    started = time.perf_counter()
    folder = out.lab().tools
    build_tools(console, folder)
    table = Table(title=f"The lab's tools, in {folder}", title_justify="left")
    table.add_column("binary")
    table.add_column("path")
    everything = provision.TOOLS + provision.FLUX_TOOLS
    for name, path in provision.binaries(folder, tools=everything).items():
        table.add_row(name, str(path.relative_to(folder)))
    console.print(table)
    if doctor.docker_running().ok:
        console.log(f"base image {ensure_base_image(log=lambda message: None)} is ready")
    else:
        console.print("[yellow]Docker is not running[/]: the app's base image is made later")
    console.print(f"Provisioned in {time.perf_counter() - started:.1f} s.")
    return 0


def command_node_image(args, out: Out) -> int:
    console = out.out
    if args.if_needed and nodeimage.can_pull_published():
        console.print(f"kind node image: the published {nodeimage.versions.KIND_NODE_IMAGE}")
        return 0
    nodeimage.host_packages(log=console.log)
    with console.status("kind node image") as status:

        def log(message: str) -> None:
            status.update(message)
            console.log(message)

        image = nodeimage.ensure(out.lab().tools, log=log)
    console.print(f"kind node image: {image}")
    return 0
