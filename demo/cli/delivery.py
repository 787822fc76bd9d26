"""Push and pull by hand: `push` runs the pipeline, `agent` starts, stops or shows the agents."""

from __future__ import annotations

from rich.table import Table

from demo.cli.output import Out, add_json_flag, ok_mark, wants_json
from demo.delivery.lab_delivery import Delivery


def register(commands) -> None:
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
    add_json_flag(push)
    push.set_defaults(handler=command_push)
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
    add_json_flag(agent)
    agent.set_defaults(handler=command_agent)


def command_push(args, out: Out) -> int:
    delivery = Delivery(out.lab())
    record = delivery.push(args.commit, build=not args.no_build, hosts=tuple(args.docker_host))
    if wants_json(args):
        out.emit({"mode": delivery.mode, **record.document()})
    else:
        out.out.print(run_table(record, delivery.mode))
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
        table.add_row(stage.name, f"{stage.seconds:.2f}", ok_mark(stage.ok), stage.detail)
    for cluster in record.clusters:
        seconds = cluster.deploy_seconds + cluster.verify_seconds
        table.add_row(f"  {cluster.cluster}", f"{seconds:.2f}", ok_mark(cluster.ok), cluster.error)
    if record.image:
        table.caption = f"image {record.image}"
    return table


def command_agent(args, out: Out) -> int:
    delivery = Delivery(out.lab())
    if args.action == "start":
        delivery.prepare()
        delivery.start_agents(interval=args.interval, kind="flux" if args.flux else "ours")
    elif args.action == "stop":
        delivery.stop_agents()
    flux = delivery.agent_kind == "flux"
    if wants_json(args):
        out.emit(agents_document(delivery))
        return 0
    console = out.out
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


def agents_document(delivery: Delivery) -> dict:
    """What `agent status --json` answers: each cluster's agent, its process and its report."""
    agents = []
    for info in delivery.agents():
        agents.append(
            {
                "cluster": info.cluster,
                "running": info.running,
                "stuck_for": info.silent_for() if info.running else None,
                "metrics": f"http://127.0.0.1:{info.metrics_port}/metrics" if info.running else "",
                "status": info.status,
            }
        )
    return {"agent": delivery.agent_kind, "mode": delivery.mode, "agents": agents}


FLUX_GRANTS = """\
What Flux may do here: source-controller only its own kinds in shop; kustomize-controller
its own kinds, read the sources, list Secrets and ConfigMaps in shop, and impersonate
shop/flux-applier, the account every apply runs as (workloads in shop, nothing else).
Flux's released install binds kustomize-controller to cluster-admin instead."""
