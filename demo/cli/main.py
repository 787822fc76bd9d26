"""`python -m demo`: bring the lab up, see its status, take it down, check the machine.

    python -m demo up --provider kwok --clusters 3
    python -m demo status            (--json: the same, for scripts)
    python -m demo down
    python -m demo doctor --provider kind
    python -m demo provision

Each command group lives in its own module of this package and registers its parsers here.
Every failure the lab foresees is a `LabError`, printed on stderr as what went wrong and what
to do; the cause stays attached (`--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

import requests
from rich.console import Console

from demo.cli import delivery, experiments, lab, tools, workshop
from demo.cli.output import Out, wants_json
from demo.core import versions
from demo.core.errors import LabError

DESCRIPTION = """\
The lab of "Tell It With a Meme", part 4: clusters, an image registry and a git server on this
machine, for running push- and pull-based delivery for real. Everything it makes is named
tellit-* and kept in one state folder (TELLIT_LAB_STATE), so `down` removes all of it."""

GROUPS = (lab, tools, delivery, workshop, experiments)


def version_line() -> str:
    """What `--version` prints: the lab's own version and the Kubernetes it runs."""
    try:
        own = installed_version("tell-it-with-a-meme")
    except PackageNotFoundError:  # run from a clone that was never installed
        own = "unknown (not installed: make .venv/.lab-installed)"
    return (
        f"python -m demo {own}: kind {versions.KIND} (kindest/node"
        f" {versions.KIND_NODE_KUBERNETES}), Kubernetes {versions.KUBERNETES} built here;"
        " `python -m demo versions` lists every pin"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, console: Console | None = None, errors: Console | None = None
) -> int:
    args = build_parser().parse_args(argv)
    out = Out(as_json=wants_json(args))
    if console is not None:
        out.out = console
    if errors is not None:
        out.err = errors
    try:
        return args.handler(args, out)
    except LabError as error:
        report_error(out.err, error.message, error.fix, error, args.debug)
    except requests.RequestException as error:
        report_error(
            out.err, f"a request failed: {error}", "check that the lab is up", error, args.debug
        )
    except OSError as error:
        report_error(
            out.err,
            f"{error.strerror or error} ({error.filename or 'no file named'})",
            "check the path and its permissions",
            error,
            args.debug,
        )
    except KeyboardInterrupt:
        out.err.print(
            "[yellow]interrupted[/]: `python -m demo status` shows what is up,"
            " `python -m demo down` removes it"
        )
        return 130
    return 1


def report_error(console, message: str, fix: str, error: BaseException, debug: bool) -> None:
    console.print(f"[bold red]error:[/] {message}", markup=True)
    if error.__cause__ is not None:
        console.print(f"  cause: {type(error.__cause__).__name__}: {error.__cause__}"[:600])
    if fix:
        console.print(f"  [bold]what to do:[/] {fix}")
    if debug:
        console.print("".join(traceback.format_exception(error)))
