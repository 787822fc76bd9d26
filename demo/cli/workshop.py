"""What attendees and facilitators run: `tour` (make demo), `lab` (step by step, and the
mini-labs), `record` (the lab page's player) and `room` (the room's requirements)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from demo.cli.lab import ready_and_up
from demo.cli.output import Out
from demo.clusters import NAMES
from demo.core.naming import env
from demo.core.paths import write_atomic
from demo.delivery.lab_delivery import Delivery
from demo.lab.record import LabRecord
from demo.workshop import room
from demo.workshop.minilabs import TRACKS, walk
from demo.workshop.minilabs.setup import bench_for
from demo.workshop.recording import RECORDING, record_demo
from demo.workshop.tour import AGENTS, NEXT, STEPS, Story, run_steps


def add_lab_options(parser) -> None:
    """What `tour` and `lab` both ask: the provider, the agents' interval, which agent."""
    parser.add_argument("--provider", choices=NAMES, default=env("PROVIDER", "kind"))
    parser.add_argument("--interval", type=float, default=5, help="the agents' poll interval")
    parser.add_argument(
        "--agent",
        choices=AGENTS,
        default=env("AGENT", "ours"),
        help="the pull agent: the lab's own, or Flux (default: %(default)s, or TELLIT_AGENT)",
    )


def register(commands) -> None:
    recording = commands.add_parser(
        "record",
        help="record `make demo PROVIDER=kwok` for the lab page's player (asciicast v2)",
        description="Runs the tour on a lab of its own under a pseudo-terminal, writes the"
        " timed recording with this machine's paths replaced, and takes its lab down.",
    )
    recording.add_argument("--out", type=Path, default=None, help="(default: %(default)s)")
    recording.add_argument(
        "--provider", choices=("kwok", "kind"), default="kwok",
        help="kwok for the lab page's player; kind times the workshop's agenda",
    )  # fmt: skip
    recording.set_defaults(handler=command_record)
    room_parser = commands.add_parser(
        "room",
        help="write what a workshop room needs (docs/workshop/room.json) from doctor's checks",
    )
    room_parser.add_argument("--out", type=Path, default=room.ROOM, help="(default: %(default)s)")
    room_parser.set_defaults(handler=command_room)
    tour = commands.add_parser(
        "tour",
        help="the story of part 4: push v1, pull v2, a change by hand (what `make demo` runs)",
    )
    tour.add_argument("--clusters", type=int, default=3)
    add_lab_options(tour)
    tour.set_defaults(handler=command_tour)
    lab = commands.add_parser(
        "lab",
        help="the same story one step at a time, for attendees: what each step shows, what to"
        " type, and a check after it",
    )
    lab.add_argument(
        "--track",
        choices=("delivery", *TRACKS),
        default="delivery",
        help="delivery: part 4's push, pull and drift (the default); services (part 2),"
        " secrets and control-plane (part 3): the mini-labs, on one cluster",
    )
    lab.add_argument("--cluster", default="", help="the mini-lab's cluster (default: the first)")
    lab.add_argument(
        "--clusters", type=int, default=0, help="clusters to bring up (default: 3; mini-labs: 1)"
    )
    add_lab_options(lab)
    lab.add_argument("--yes", action="store_true", help="do not wait for Enter between steps")
    lab.set_defaults(handler=command_lab)


def command_tour(args, out: Out) -> int:
    console = out.out
    if not ready_and_up(args, out):
        return 1
    story = Story(Delivery(out.lab().quiet()), console.print, args.interval, args.agent)
    results = run_steps(story)
    if any(problem for _, problem in results):
        return 1
    write_atomic(out.lab().state / TOUR_RECORD, json.dumps(tour_document(story), indent=2))
    table = Table(title="What happened", title_justify="left")
    for column in ("step", "cluster", "version", "digest", "how it got there", "lead time"):
        table.add_column(column)
    for row in story.rows:
        table.add_row(
            row.step, row.cluster, row.version, row.digest, row.how, f"{row.lead_time:.1f} s"
        )
    console.print(table)
    console.print(
        f"Drift in {story.drift_cluster}: put back by {story.puller} after"
        f" {story.drift_repaired_after:.1f} s."
    )
    console.print(NEXT)
    return 0


TOUR_RECORD = "tour.json"  # in the lab state: what the last tour did, for scripts and tests


def tour_document(story: Story) -> dict:
    """What the tour did, as its table shows it: each step's row and the drift's repair."""
    return {
        "rows": [dataclasses.asdict(row) for row in story.rows],
        "drift": {
            "cluster": story.drift_cluster,
            "repaired_by": story.puller,
            "seconds": story.drift_repaired_after,
        },
    }


def asker(args, console: Console):
    """Before each step of a walkthrough: what to type by hand, then wait for Enter (unless
    --yes); no answer (end of input) stops the walk."""

    def ask(step, number: int) -> bool:
        console.print(f"    by hand: [bold]{step.command}[/]")
        if args.yes:
            return True
        try:
            console.input("    press Enter to run it (Ctrl-C to stop) ")
        except EOFError:
            return False
        return True

    return ask


def command_lab(args, out: Out) -> int:
    console = out.out
    if args.track != "delivery":
        return command_minilab(args, out)
    args.clusters = args.clusters or 3
    if not ready_and_up(args, out):
        return 1

    ask = asker(args, console)
    story = Story(Delivery(out.lab().quiet()), console.print, args.interval, args.agent)
    results = run_steps(story, ask)
    table = Table(title="Your lab", title_justify="left")
    for column in ("step", "check"):
        table.add_column(column)
    for step, problem in results:
        table.add_row(step.title, "[green]ok[/]" if problem is None else f"[red]{problem}[/]")
    console.print(table)
    done = len(results) == len(STEPS) and all(problem is None for _, problem in results)
    console.print(NEXT if done else "Fix what the check says, then run `python -m demo lab` again.")
    return 0 if done else 1


def command_minilab(args, out: Out) -> int:
    """One mini-lab track on the lab that is up (or on one cluster brought up for it)."""
    console = out.out
    track = TRACKS[args.track]
    record = LabRecord.load(out.lab().state)
    if record is None:
        args.clusters = args.clusters or 1
        if not ready_and_up(args, out):
            return 1
    elif record.provider != args.provider:
        console.print(f"The lab is up with {record.provider}: the track runs there.")
    console.print(f"[bold]Part {track.part}: {track.title}[/]")
    with console.status("the app's image, onto the cluster's nodes"):
        bench = bench_for(out.lab(), track, console.print, args.cluster)

    ask = asker(args, console)
    outcomes = walk(track, bench, ask)
    table = Table(title=f"Your lab: {track.name} on {bench.cluster.name}", title_justify="left")
    for column in ("step", "check"):
        table.add_column(column)
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for outcome in outcomes:
        shown = outcome.status if outcome.status == "ok" else f"{outcome.status}: {outcome.detail}"
        table.add_row(outcome.step.title, f"[{colours[outcome.status]}]{shown}[/]")
    console.print(table)
    failed = [o for o in outcomes if o.status == "failed"] or len(outcomes) < len(track.steps)
    if failed:
        console.print(
            f"Fix what the check says, then run `python -m demo lab --track {track.name}`"
            " again: each step starts from what the cluster holds."
        )
        return 1
    skipped = [o for o in outcomes if o.status == "skipped"]
    if skipped:
        console.print(
            f"{len(outcomes) - len(skipped)} of {len(outcomes)} steps ran on"
            f" {bench.cluster.provider}; the others need kind: `python -m demo lab --track"
            f" {track.name} --provider kind` (after `python -m demo down`)."
        )
    console.print(
        f"`kubectl get all -n {bench.namespace}` shows what the track made;"
        " `python -m demo down` removes the lab."
    )
    return 0


def command_record(args, out: Out) -> int:
    cast = args.out or RECORDING.with_name(f"demo-{args.provider}.cast")
    record_demo(out.lab(out.out.log), cast, provider=args.provider)
    return 0


def command_room(args, out: Out) -> int:
    console = out.out
    console.print(f"room requirements: {room.write(args.out)}")
    return 0
