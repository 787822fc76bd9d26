"""`python -m demo`: bring the lab up, see its status, take it down, check the machine.

    python -m demo up --provider kwok --clusters 3
    python -m demo status
    python -m demo down
    python -m demo doctor --provider kind
    python -m demo provision

Every failure the lab foresees is a `LabError`, printed as what went wrong and what to do; the
cause stays attached (`--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

import requests
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import doctor, nodeimage, provision, room, teardown
from .clusters import NAMES, Cluster, Health, create_all, provider
from .delivery import Delivery
from .errors import LabError
from .experiments.results import RESULTS
from .experiments.runner import EXPERIMENTS, SHARED_ORDER, run_experiment
from .gitserver import GitServer
from .images import ensure_base_image
from .lab import LabRecord, running_registry, start_registry
from .minilabs import TRACKS, walk
from .minilabs.setup import bench_for
from .naming import env
from .paths import state_dir
from .recording import RECORDING, record_demo
from .teardown import own_lab
from .tour import AGENTS, NEXT, STEPS, Story, run_steps

DESCRIPTION = """\
The lab of "Tell It With a Meme", part 4: clusters, an image registry and a git server on this
machine, for running push- and pull-based delivery for real. Everything it makes is named
tellit-* and kept in one state folder (TELLIT_LAB_STATE), so `down` removes all of it."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="bring up clusters, the registry and the git server (safe to run again)",
        description="Bring up the lab: clusters, the registry and the git server. Running it"
        " again repairs what broke and changes nothing that works.",
    )
    up.add_argument(
        "--provider",
        choices=NAMES,
        default=env("PROVIDER", "kind"),
        help="kind: kind clusters in Docker (readers' laptops); kwok: real control planes as"
        " local processes with simulated nodes; kubeconfig: clusters you already have"
        " (default: %(default)s, or TELLIT_PROVIDER)",
    )
    up.add_argument(
        "--clusters", type=int, default=3, help="how many clusters (default: %(default)s)"
    )
    up.add_argument(
        "--kubeconfig", help="with --provider kubeconfig: the kubeconfig file (default: KUBECONFIG)"
    )
    up.add_argument(
        "--context",
        action="append",
        default=[],
        help="with --provider kubeconfig: a context to use (repeat it; default: all)",
    )

    commands.add_parser("status", help="show each cluster, the registry and the git server")
    commands.add_parser(
        "down", help="remove everything the lab made, then check that nothing is left"
    )
    check = commands.add_parser("doctor", help="is this machine ready for the lab?")
    check.add_argument("--provider", choices=NAMES, default=None, help="(default: the lab's)")
    commands.add_parser(
        "provision",
        help="build the lab's Kubernetes tools from Go modules and make the app's base image",
    )
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
    push = commands.add_parser(
        "push",
        help="run the push pipeline for the app's current commit (or --commit)",
        description="Validate, build, publish, commit the pinned manifests, and (in push mode)"
        " deploy to every cluster and verify. A push to the lab's app repository runs it too.",
    )
    push.add_argument("--commit", default="", help="the app commit (default: main's head)")
    push.add_argument("--no-build", action="store_true", help="reuse the image already built")
    push.add_argument(
        "--docker-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also deploy to a plain Docker host of this name (a container on this machine's"
        " Docker, published on 127.0.0.1): a target that is not Kubernetes",
    )
    agent = commands.add_parser(
        "agent", help="start, stop or show the pull agents (one per cluster)"
    )
    agent.add_argument("action", choices=("start", "stop", "status"))
    agent.add_argument(
        "--interval", type=float, default=15, help="seconds between polls (default: %(default)s)"
    )
    agent.add_argument(
        "--flux",
        action="store_true",
        help="start Flux (source- and kustomize-controller) instead of the lab's own agent",
    )
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
    room_parser = commands.add_parser(
        "room",
        help="write what a workshop room needs (docs/workshop/room.json) from doctor's checks",
    )
    room_parser.add_argument("--out", type=Path, default=room.ROOM, help="(default: %(default)s)")
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
    tour = commands.add_parser(
        "tour",
        help="the story of part 4: push v1, pull v2, a change by hand (what `make demo` runs)",
    )
    tour.add_argument("--provider", choices=NAMES, default=env("PROVIDER", "kind"))
    tour.add_argument("--clusters", type=int, default=3)
    tour.add_argument("--interval", type=float, default=5, help="the agents' poll interval")
    tour.add_argument(
        "--agent",
        choices=AGENTS,
        default=env("AGENT", "ours"),
        help="the pull agent: the lab's own, or Flux (default: %(default)s, or TELLIT_AGENT)",
    )
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
    lab.add_argument("--provider", choices=NAMES, default=env("PROVIDER", "kind"))
    lab.add_argument(
        "--clusters", type=int, default=0, help="clusters to bring up (default: 3; mini-labs: 1)"
    )
    lab.add_argument("--interval", type=float, default=5, help="the agents' poll interval")
    lab.add_argument(
        "--agent",
        choices=AGENTS,
        default=env("AGENT", "ours"),
        help="the pull agent: the lab's own, or Flux (default: %(default)s, or TELLIT_AGENT)",
    )
    lab.add_argument("--yes", action="store_true", help="do not wait for Enter between steps")
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    console = console or Console(highlight=False, log_path=False)
    args = build_parser().parse_args(argv)
    handler = {
        "up": command_up,
        "status": command_status,
        "down": command_down,
        "doctor": command_doctor,
        "provision": command_provision,
        "experiment": command_experiment,
        "record": command_record,
        "room": command_room,
        "node-image": command_node_image,
        "push": command_push,
        "agent": command_agent,
        "tour": command_tour,
        "lab": command_lab,
    }[args.command]
    try:
        return handler(args, console)
    except LabError as error:
        report_error(console, error.message, error.fix, error, args.debug)
    except requests.RequestException as error:
        report_error(
            console, f"a request failed: {error}", "check that the lab is up", error, args.debug
        )
    except OSError as error:
        report_error(
            console,
            f"{error.strerror or error} ({error.filename or 'no file named'})",
            "check the path and its permissions",
            error,
            args.debug,
        )
    except KeyboardInterrupt:
        console.print(
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


def command_up(args, console: Console) -> int:
    root = state_dir()
    record = LabRecord.load(root)
    if record and record.provider != args.provider:
        raise LabError(
            f"the lab is up with the {record.provider} provider",
            "take it down first (`python -m demo down`), or use --provider " + record.provider,
        )
    options = {"kubeconfig": args.kubeconfig} if args.kubeconfig else {}
    owner = provider(args.provider, root=root / args.provider, **options)
    with console.status(f"preparing the {args.provider} provider") as status:
        owner.prepare(log=lambda message: (status.update(message), console.log(message)))
    bad = doctor.failed(owner.available())
    if bad:
        raise LabError(
            "this machine is not ready for the "
            + args.provider
            + " provider: "
            + "; ".join(f"{c.name} ({c.detail})" for c in bad),
            "; ".join(dict.fromkeys(c.fix for c in bad)),
        )
    names = args.context or owner.names(args.clusters)
    LabRecord(args.provider, names, options).save(root)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{len(names)} {args.provider} cluster(s)", total=len(names))

        def done(message: str) -> None:
            if message.startswith("cluster "):
                progress.advance(task)
            progress.console.log(message)

        clusters = create_all(owner, names, progress=done)
        services = progress.add_task("registry, git server, repositories", total=3)
        registry = start_registry(owner, clusters, root)
        progress.advance(services)
        git = GitServer()
        git.start()
        progress.advance(services)
        # What `push` and `agent start` need, made once here: the repositories (the app's
        # first commit among them) and each cluster's namespace and accounts.
        Delivery(log=progress.console.log).prepare()
        progress.advance(services)
    console.print(f"The lab is up in {time.perf_counter() - started:.1f} s.")
    console.print(clusters_table([(c, owner.health(c)) for c in clusters]))
    console.print(services_table(registry, git))
    return 0


def build_tools(console: Console) -> None:
    with console.status("building the lab's tools from Go modules (minutes, once)") as status:

        def log(message: str) -> None:
            status.update(message)
            console.log(message)

        provision.ensure(log=log, tools=provision.TOOLS + provision.FLUX_TOOLS)


def command_status(args, console: Console) -> int:
    root = state_dir()
    record = LabRecord.load(root)
    if record is None:
        console.print("The lab is not up: `python -m demo up` brings it up.")
        return 0
    owner = record.owner(root)
    known = {c.name: c for c in owner.list()}
    rows: list[tuple[Cluster | str, Health]] = []
    for name in record.clusters:
        if name in known:
            rows.append((known[name], owner.health(known[name])))
        else:
            rows.append(
                (name, Health(False, "missing", fix="`python -m demo up` creates it again"))
            )
    registry = running_registry(owner, root)
    git = GitServer()
    console.print(clusters_table(rows, record.provider))
    console.print(services_table(registry, git))
    healthy = all(h.ready for _, h in rows) and registry is not None and git.healthy()
    return 0 if healthy else 1


def clusters_table(rows, provider_name: str = "") -> Table:
    table = Table(title="Clusters", title_justify="left")
    for column in ("cluster", "provider", "version", "health", "what to do"):
        table.add_column(column)
    for cluster, health in rows:
        name = cluster if isinstance(cluster, str) else cluster.name
        owner = provider_name if isinstance(cluster, str) else cluster.provider
        colour = "green" if health.ready else "red"
        table.add_row(name, owner, health.version, f"[{colour}]{health.detail}[/]", health.fix)
    return table


def services_table(registry, git: GitServer) -> Table:
    table = Table(title="Services", title_justify="left")
    for column in ("service", "address", "health"):
        table.add_column(column)
    if registry is not None:
        table.add_row("registry", registry.url, _health(registry.healthy()))
    else:
        table.add_row("registry", "-", _health(False, "not running"))
    if not git.running():
        table.add_row("git server", "-", _health(False, "not running"))
    elif git.healthy():
        table.add_row("git server", f"http://127.0.0.1:{git.port}/", _health(True))
    else:  # its process is there, its answers are not
        table.add_row("git server", f"http://127.0.0.1:{git.port}/",
                      _health(False, "does not answer within 2 s: `python -m demo down`, then"
                              " `up`, starts it again"))  # fmt: skip
    return table


def _health(ok: bool, bad: str = "does not answer") -> str:
    return "[green]answers[/]" if ok else f"[red]{bad}[/]"


def command_down(args, console: Console) -> int:
    root = state_dir()
    left = teardown.down(root, log=console.log)
    if left:
        table = Table(title="Left behind: remove these by hand", title_justify="left")
        table.add_column("what")
        for item in left:
            table.add_row(item)
        console.print(table)
        return 1
    console.print("Nothing of the lab is left.")
    return 0


def command_doctor(args, console: Console) -> int:
    record = LabRecord.load(state_dir())
    name = args.provider or (record.provider if record else env("PROVIDER", "kind"))
    checks = doctor.all_checks(name)
    table = Table(title=f"Lab readiness for the {name} provider", title_justify="left")
    for column in ("check", "result", "detail", "fix"):
        table.add_column(column)
    colours = {"ok": "green", "warn": "yellow", "FAIL": "red"}
    for check in checks:
        fix = check.fix if not check.ok else ""
        table.add_row(check.name, f"[{colours[check.mark]}]{check.mark}[/]", check.detail, fix)
    console.print(table)
    console.print(doctor.summary(checks))
    return 1 if doctor.failed(checks) else 0


def command_provision(args, console: Console) -> int:
    started = time.perf_counter()
    build_tools(console)
    folder = provision.tools_dir()
    table = Table(title=f"The lab's tools, in {folder}", title_justify="left")
    table.add_column("binary")
    table.add_column("path")
    for name, path in provision.binaries(tools=provision.TOOLS + provision.FLUX_TOOLS).items():
        table.add_row(name, str(path.relative_to(folder)))
    console.print(table)
    if doctor.docker_running().ok:
        console.log(f"base image {ensure_base_image(log=lambda message: None)} is ready")
    else:
        console.print("[yellow]Docker is not running[/]: the app's base image is made later")
    console.print(f"Provisioned in {time.perf_counter() - started:.1f} s.")
    return 0


def command_node_image(args, console: Console) -> int:
    if args.if_needed and nodeimage.can_pull_published():
        console.print(f"kind node image: the published {nodeimage.versions.KIND_NODE_IMAGE}")
        return 0
    nodeimage.host_packages(log=console.log)
    with console.status("kind node image") as status:

        def log(message: str) -> None:
            status.update(message)
            console.log(message)

        image = nodeimage.ensure(log=log)
    console.print(f"kind node image: {image}")
    return 0


def command_experiment(args, console: Console) -> int:
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
    with own_lab("experiments") if shared else nullcontext() as root:
        for index, name in enumerate(names, start=1):
            started = time.perf_counter()
            with console.status(f"[{index}/{len(names)}] {name}") as status:

                def progress(message: str, status=status, index=index) -> None:
                    status.update(f"[{index}/{len(names)}] {message}")
                    console.log(message)

                path = run_experiment(name, size, args.provider, args.out, progress, root)
            table.add_row(name, f"{time.perf_counter() - started:.0f}", str(path))
    console.print(table)
    return 0


def command_record(args, console: Console) -> int:
    out = args.out or RECORDING.with_name(f"demo-{args.provider}.cast")
    record_demo(out, provider=args.provider, progress=console.log)
    return 0


def command_room(args, console: Console) -> int:
    console.print(f"room requirements: {room.write(args.out)}")
    return 0


def command_push(args, console: Console) -> int:
    delivery = Delivery(log=console.log)
    record = delivery.push(args.commit, build=not args.no_build, hosts=tuple(args.docker_host))
    console.print(run_table(record, delivery.mode))
    return 0 if record.ok else 1


def run_table(record, mode: str) -> Table:
    table = Table(
        title=f"Pipeline run for {record.commit[:12]} ({mode} mode): "
        + ("[green]ok[/]" if record.ok else "[red]failed[/]"),
        title_justify="left",
    )
    for column in ("stage or cluster", "seconds", "result", "detail"):
        table.add_column(column)
    for stage in record.stages:
        table.add_row(stage.name, f"{stage.seconds:.2f}", _ok(stage.ok), stage.detail)
    for cluster in record.clusters:
        seconds = cluster.deploy_seconds + cluster.verify_seconds
        table.add_row(f"  {cluster.cluster}", f"{seconds:.2f}", _ok(cluster.ok), cluster.error)
    if record.image:
        table.caption = f"image {record.image}"
    return table


def _ok(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]failed[/]"


def command_agent(args, console: Console) -> int:
    delivery = Delivery(log=console.log)
    if args.action == "start":
        delivery.prepare()
        delivery.start_agents(interval=args.interval, kind="flux" if args.flux else "ours")
    elif args.action == "stop":
        delivery.stop_agents()
    flux = delivery.agent_kind == "flux"
    which = "Flux" if flux else "the lab's agent"
    table = Table(title=f"Pull agents: {which} ({delivery.mode} mode)", title_justify="left")
    last = ("ready", "objects") if flux else ("repairs",)
    keys = ("ready", "inventory") if flux else ("driftRepairs",)
    for column in ("cluster", "process", "last applied", "last error", *last, "metrics"):
        table.add_column(column)
    for info in delivery.agents():
        status = info.status
        silent = info.silent_for()
        if not info.running:
            process = "stopped"
        elif silent is not None:  # the process is there, its rounds are not
            process = f"[red]stuck[/] (no round for {silent:.0f} s)"
        else:
            process = "[green]running[/]"
        table.add_row(
            info.cluster,
            process,
            status.get("lastAppliedRevision", "")[:12],
            status.get("lastError", ""),
            *(status.get(key, "") for key in keys),
            f"http://127.0.0.1:{info.metrics_port}/metrics" if info.running else "",
        )
    console.print(table)
    if flux and args.action != "stop":
        console.print(FLUX_GRANTS)
    return 0


FLUX_GRANTS = """\
What Flux may do here: source-controller only its own kinds in shop; kustomize-controller
its own kinds, read the sources, list Secrets and ConfigMaps in shop, and impersonate
shop/flux-applier, the account every apply runs as (workloads in shop, nothing else).
Flux's released install binds kustomize-controller to cluster-admin instead."""


def _ready_and_up(args, console: Console) -> bool:
    """The doctor's checks, then up: what the tour and the walkthrough start with."""
    args.kubeconfig, args.context = None, []
    return command_doctor(args, console) == 0 and command_up(args, console) == 0


def command_tour(args, console: Console) -> int:
    if not _ready_and_up(args, console):
        return 1
    story = Story(Delivery(log=lambda message: None), console.print, args.interval, args.agent)
    results = run_steps(story)
    if any(problem for _, problem in results):
        return 1
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


def _asker(args, console: Console):
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


def command_lab(args, console: Console) -> int:
    if args.track != "delivery":
        return command_minilab(args, console)
    args.clusters = args.clusters or 3
    if not _ready_and_up(args, console):
        return 1

    ask = _asker(args, console)
    story = Story(Delivery(log=lambda message: None), console.print, args.interval, args.agent)
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


def command_minilab(args, console: Console) -> int:
    """One mini-lab track on the lab that is up (or on one cluster brought up for it)."""
    track = TRACKS[args.track]
    record = LabRecord.load(state_dir())
    if record is None:
        args.clusters = args.clusters or 1
        if not _ready_and_up(args, console):
            return 1
    elif record.provider != args.provider:
        console.print(f"The lab is up with {record.provider}: the track runs there.")
    console.print(f"[bold]Part {track.part}: {track.title}[/]")
    with console.status("the app's image, onto the cluster's nodes"):
        bench = bench_for(state_dir(), track, console.print, args.cluster)

    ask = _asker(args, console)
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
