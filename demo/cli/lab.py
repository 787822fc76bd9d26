"""The lab's life: `up`, `status`, `kubeconfig`, `down` and `doctor`."""

from __future__ import annotations

import dataclasses
import os
import time

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from demo.cli.output import Out, add_json_flag, health_mark, wants_json
from demo.clusters import NAMES, Cluster, Health, create_all, provider
from demo.core.errors import LabError
from demo.core.naming import env
from demo.delivery.lab_delivery import Delivery
from demo.lab import doctor, teardown
from demo.lab.record import LabRecord, running_registry, start_registry
from demo.lab.shell import SHELLS, Reach, export_lines, kubeconfig_value
from demo.services.git.server import GitServer


def register(commands) -> None:
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
    up.set_defaults(handler=command_up)
    status = commands.add_parser(
        "status", help="show each cluster, the registry and the git server"
    )
    add_json_flag(status)
    status.set_defaults(handler=command_status)
    reach = commands.add_parser(
        "kubeconfig",
        help="print `export KUBECONFIG=...` for the lab's clusters: eval \"$(python -m demo"
        ' kubeconfig)"',
        description="Print the shell lines that make every kubectl you type reach the lab's"
        " clusters and no other: KUBECONFIG names the lab's own kubeconfig files (your"
        " ~/.kube/config is not touched) and PATH starts with the lab's kubectl. Run it as"
        ' eval "$(python -m demo kubeconfig)"; the contexts are listed on stderr.',
    )
    reach.add_argument("--cluster", help="only this cluster (its context is then the current one)")
    reach.add_argument(
        "--shell", choices=SHELLS, default="sh", help="sh (bash, zsh) or fish (default: sh)"
    )
    add_json_flag(reach)
    reach.set_defaults(handler=command_kubeconfig)
    down = commands.add_parser(
        "down", help="remove everything the lab made, then check that nothing is left"
    )
    down.set_defaults(handler=command_down)
    check = commands.add_parser("doctor", help="is this machine ready for the lab?")
    check.add_argument("--provider", choices=NAMES, default=None, help="(default: the lab's)")
    add_json_flag(check)
    check.set_defaults(handler=command_doctor)


def command_up(args, out: Out) -> int:
    console = out.out
    lab = out.lab()
    root = lab.state
    record = LabRecord.load(root)
    if record and record.provider != args.provider:
        raise LabError(
            f"the lab is up with the {record.provider} provider",
            "take it down first (`python -m demo down`), or use --provider " + record.provider,
        )
    options = {"kubeconfig": args.kubeconfig} if args.kubeconfig else {}
    owner = provider(args.provider, lab, **options)
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
        git = GitServer(lab)
        git.start()
        progress.advance(services)
        # What `push` and `agent start` need, made once here: the repositories (the app's
        # first commit among them) and each cluster's namespace and accounts.
        Delivery(lab.logging(progress.console.log)).prepare()
        progress.advance(services)
    console.print(f"The lab is up in {time.perf_counter() - started:.1f} s.")
    console.print(clusters_table([(c, owner.health(c)) for c in clusters]))
    console.print(services_table(registry, git))
    return 0


def command_status(args, out: Out) -> int:
    lab = out.lab()
    root = lab.state
    record = LabRecord.load(root)
    if record is None:
        if wants_json(args):
            out.emit({"up": False, "healthy": False, "clusters": [], "services": {}})
        else:
            out.out.print("The lab is not up: `python -m demo up` brings it up.")
        return 0
    owner = record.owner(lab)
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
    git = GitServer(lab)
    healthy = all(h.ready for _, h in rows) and registry is not None and git.healthy()
    if wants_json(args):
        out.emit(status_document(rows, record.provider, registry, git, healthy))
    else:
        out.out.print(clusters_table(rows, record.provider))
        out.out.print(services_table(registry, git))
    return 0 if healthy else 1


def command_kubeconfig(args, out: Out) -> int:
    lab = out.lab()
    record = LabRecord.required(lab.state)
    clusters = record.clusters_of(lab)
    if args.cluster:
        clusters = [c for c in clusters if c.name == args.cluster]
        if not clusters:
            raise LabError(
                f"the lab has no cluster named {args.cluster!r}",
                "one of: " + ", ".join(record.clusters),
            )
    missing = [c.name for c in clusters if not c.kubeconfig.is_file()]
    if not clusters or missing:
        raise LabError(
            f"the lab's clusters are not all there (missing: {', '.join(missing) or 'all'})",
            "`python -m demo up` brings them back; `python -m demo status` shows them",
        )
    reaches = [Reach(c.name, c.kubeconfig, c.context, c.kubectl_path) for c in clusters]
    if not reaches[0].kubectl.is_file():  # else PATH would name a folder and find another
        raise LabError(
            f"the lab's kubectl is not at {reaches[0].kubectl}",
            "`make provision` builds it (TELLIT_TOOLS or TELLIT_CACHE name where the tools are)",
        )
    if wants_json(args):
        out.emit(
            {
                "KUBECONFIG": kubeconfig_value(reaches),
                "kubectl": str(reaches[0].kubectl),
                "clusters": [dataclasses.asdict(r) for r in reaches],
            }
        )
        return 0
    for line in export_lines(reaches, args.shell, os.environ.get("PATH", "")):
        print(line, file=out.out.file, flush=True)
    # kind's and kwok's files hold one context each, so the first file's is the current one;
    # clusters you brought share your file, whose current context stays yours.
    shared = len({r.kubeconfig for r in reaches}) < len(reaches)
    current = "choose with kubectl --context NAME" if shared else f"current: {reaches[0].context}"
    out.err.print(
        "contexts: " + ", ".join(f"{r.cluster} = {r.context}" for r in reaches) + f" ({current})"
    )
    return 0


def status_document(rows, provider_name: str, registry, git: GitServer, healthy: bool) -> dict:
    """What `status --json` answers: each cluster's health and each service's address."""
    clusters = []
    for cluster, health in rows:
        named = isinstance(cluster, str)
        clusters.append(
            {
                "name": cluster if named else cluster.name,
                "provider": provider_name if named else cluster.provider,
                **dataclasses.asdict(health),
            }
        )
    running = git.running()
    return {
        "up": True,
        "provider": provider_name,
        "healthy": healthy,
        "clusters": clusters,
        "services": {
            "registry": {
                "address": registry.url if registry is not None else "",
                "healthy": registry is not None and registry.healthy(),
            },
            "git": {
                "address": f"http://127.0.0.1:{git.port}/" if running else "",
                "healthy": running and git.healthy(),
            },
        },
    }


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
        table.add_row("registry", registry.url, health_mark(registry.healthy()))
    else:
        table.add_row("registry", "-", health_mark(False, "not running"))
    if not git.running():
        table.add_row("git server", "-", health_mark(False, "not running"))
    elif git.healthy():
        table.add_row("git server", f"http://127.0.0.1:{git.port}/", health_mark(True))
    else:  # its process is there, its answers are not
        table.add_row("git server", f"http://127.0.0.1:{git.port}/",
                      health_mark(False, "does not answer within 2 s: `python -m demo down`, then"
                              " `up`, starts it again"))  # fmt: skip
    return table


def command_down(args, out: Out) -> int:
    console = out.out
    left = teardown.down(out.lab(console.log))
    if left:
        table = Table(title="Left behind: remove these by hand", title_justify="left")
        table.add_column("what")
        for item in left:
            table.add_row(item)
        console.print(table)
        return 1
    console.print("Nothing of the lab is left.")
    return 0


def command_doctor(args, out: Out) -> int:
    lab = out.lab()
    record = LabRecord.load(lab.state)
    name = args.provider or (record.provider if record else env("PROVIDER", "kind"))
    checks = doctor.all_checks(name, lab)
    if wants_json(args):
        out.emit(
            {
                "provider": name,
                "ready": not doctor.failed(checks),
                "summary": doctor.summary(checks),
                "checks": [{**dataclasses.asdict(c), "result": c.mark} for c in checks],
            }
        )
        return 1 if doctor.failed(checks) else 0
    console = out.out
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


def ready_and_up(args, out: Out) -> bool:
    """The doctor's checks, then up: what the tour and the walkthrough start with."""
    args.kubeconfig, args.context = None, []
    return command_doctor(args, out) == 0 and command_up(args, out) == 0
