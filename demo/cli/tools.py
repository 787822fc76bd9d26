"""The lab's tools: `provision` (Kubernetes tools from Go modules) and `node-image`."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from demo.cli.output import Out
from demo.clusters.kind import nodeimage
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
