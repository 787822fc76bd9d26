"""What one pull agent is told, and its command line: spelled once, parsed by the same module.

The lab starts agents two ways, as host processes (kwok, existing contexts) and as a
Deployment's container (kind); both build their arguments with `argv`, and the agent's own
process reads them back with `parse`, so a flag cannot be spelled one way in one place and
another way in the next. The webhook's secret is never an argument (ps shows arguments): it
comes by the environment (TELLIT_WEBHOOK_SECRET).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

SECRET_VARIABLE = "TELLIT_WEBHOOK_SECRET"


@dataclass(frozen=True)
class Settings:
    cluster: str
    repo_url: str
    namespace: str
    work: Path  # the agent's local bare repository
    ref: str = "refs/heads/main"
    folder: str = "deploy"
    interval: float = 15.0
    jitter: float = 0.1  # each wait is interval x (1 ± jitter), so agents do not poll in step
    backoff_max: float = 60.0
    webhook_secret: str = ""


@dataclass(frozen=True)
class Launch:
    """How the agent's process reaches its cluster and where it listens."""

    kubeconfig: Path | None = None  # None: inside the cluster, as its pod's ServiceAccount
    context: str = ""
    metrics_port: int = 0  # 0: no metrics endpoint
    webhook_port: int = 0  # 0: no webhook, polling only


def argv(settings: Settings, launch: Launch) -> list[str]:
    """The agent's arguments, after `python -m` and its module."""
    if launch.kubeconfig is None:
        where = ["--in-cluster"]
    else:
        where = ["--kubeconfig", str(launch.kubeconfig), "--context", launch.context]
    return [
        "--cluster", settings.cluster, *where,
        "--repo", settings.repo_url, "--namespace", settings.namespace,
        "--work", str(settings.work), "--ref", settings.ref, "--folder", settings.folder,
        "--interval", f"{settings.interval:g}",
        "--metrics-port", str(launch.metrics_port), "--webhook-port", str(launch.webhook_port),
    ]  # fmt: skip


def parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(prog=prog, description=description)
    made.add_argument("--cluster", required=True)
    where = made.add_mutually_exclusive_group(required=True)
    where.add_argument("--kubeconfig", type=Path, help="outside the cluster: its credential")
    where.add_argument(
        "--in-cluster", action="store_true", help="inside: the pod's own ServiceAccount"
    )
    made.add_argument("--context", default="", help="with --kubeconfig: the context")
    made.add_argument("--repo", required=True, help="the config repository's URL")
    made.add_argument("--namespace", required=True)
    made.add_argument("--work", type=Path, required=True, help="its local bare repository")
    made.add_argument("--ref", default="refs/heads/main")
    made.add_argument("--folder", default="deploy")
    made.add_argument("--interval", type=float, default=15.0, help="seconds between polls")
    made.add_argument("--metrics-port", type=int, default=0)
    made.add_argument("--webhook-port", type=int, default=0)
    return made


def parse(
    args: list[str] | None, prog: str = "agent", description: str | None = None
) -> tuple[Settings, Launch]:
    """What `argv` wrote, read back; the secret from the environment."""
    read = parser(prog, description).parse_args(args)
    settings = Settings(
        cluster=read.cluster,
        repo_url=read.repo,
        namespace=read.namespace,
        work=read.work,
        ref=read.ref,
        folder=read.folder,
        interval=read.interval,
        webhook_secret=os.environ.get(SECRET_VARIABLE, ""),
    )
    kubeconfig = None if read.in_cluster else read.kubeconfig
    return settings, Launch(kubeconfig, read.context, read.metrics_port, read.webhook_port)
