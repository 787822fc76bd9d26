"""`experiment`: measure one of part 4's claims (or all of them) into docs/lab/results."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

from rich.table import Table

from demo.cli.output import Out
from demo.core.naming import env
from demo.experiments.results import RESULTS
from demo.experiments.runner import EXPERIMENTS, SHARED_ORDER, run_experiment
from demo.lab.teardown import own_lab


def register(commands) -> None:
    experiment = commands.add_parser(
        "experiment",
        help="measure one of part 4's claims on a lab of its own; writes its JSON result",
        description="Each experiment brings up a lab of its own (take yours down first), measures,"
        " writes docs/lab/results/NAME.json (checked against schema.json) and takes its lab"
        " down. `all` runs every one.",
    )
    experiment.add_argument("name", choices=(*EXPERIMENTS, "all"))
    experiment.add_argument(
        "--small",
        action="store_true",
        help="a quick run, fewer samples (about 3 minutes for all of them, on one lab)",
    )
    experiment.add_argument("--provider", choices=("kwok", "kind"), default=env("PROVIDER", "kwok"))
    experiment.add_argument("--out", type=Path, default=RESULTS, help="(default: %(default)s)")
    experiment.set_defaults(handler=command_experiment)


def command_experiment(args, out: Out) -> int:
    console = out.out
    if args.name == "all":  # every one that runs on this provider
        names = [n for n, e in EXPERIMENTS.items() if args.provider in e.providers]
        if args.provider != "kwok":
            names = [n for n in names if EXPERIMENTS[n].clusters]
    else:
        names = [args.name]
    size = "small" if args.small else "full"
    table = Table(title=f"Experiments ({size})", title_justify="left")
    for column in ("experiment", "seconds", "result"):
        table.add_column(column)
    shared = size == "small" and len(names) > 1  # quick runs share one lab (runner says why)
    if shared:
        names = [n for n in SHARED_ORDER if n in names]
    reader = out.lab()
    with own_lab("experiments", reader) if shared else nullcontext(reader) as lab:
        for index, name in enumerate(names, start=1):
            started = time.perf_counter()
            with console.status(f"[{index}/{len(names)}] {name}") as status:

                def progress(message: str, status=status, index=index) -> None:
                    status.update(f"[{index}/{len(names)}] {message}")
                    console.log(message)

                path = run_experiment(
                    name, lab.logging(progress), size, args.provider, args.out, shared
                )
            table.add_row(name, f"{time.perf_counter() - started:.0f}", str(path))
    console.print(table)
    return 0
