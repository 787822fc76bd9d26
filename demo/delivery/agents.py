"""The pull agents, one backend per way they run: the lab's agent or Flux, on the host (kwok,
existing contexts) or inside each cluster (kind, where pods really run).

Each backend starts its agents on every cluster of the lab, stops them on one, and says how
one is doing (`AgentInfo`), so that `Delivery` only chooses a backend: no branch on where the
agents run is left in it. A backend works on the lab it is given (its clusters, credentials,
git server and state folder), as a Flux controller works on the objects it is given.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx2
from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap

from demo.clusters.base import Cluster
from demo.core import docker
from demo.core.entrypoints import python_m
from demo.core.errors import LabError
from demo.core.processes import free_port, listening
from demo.delivery.agent import incluster
from demo.delivery.agent.reconciler import STATUS_NAME
from demo.delivery.agent.settings import SECRET_VARIABLE, Launch, Settings
from demo.delivery.agent.settings import argv as agent_argv
from demo.delivery.flux import controllers as flux
from demo.services.background import Service

if TYPE_CHECKING:
    from demo.delivery.lab_delivery import Delivery


@dataclass(frozen=True)
class AgentInfo:
    cluster: str
    running: bool  # its process is there
    metrics_port: int | None
    webhook_port: int | None
    status: dict[str, str]

    def silent_for(self, now: float | None = None) -> float | None:
        """Seconds since the agent's last heartbeat beyond what its interval allows (three
        rounds and some): None while it beats, or when it never wrote one (Flux)."""
        beat, interval = self.status.get("heartbeat"), self.status.get("interval")
        if not beat or not interval:
            return None
        then = dt.datetime.strptime(beat, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        age = (now or time.time()) - then.timestamp()
        return age if age > 3 * float(interval) + 10 else None


class Agents(Protocol):
    kind: str  # "ours" or "flux": what the lab's delivery state records

    def start(self, interval: float, secret: str) -> None:
        """An agent on every cluster of the lab that has none running."""

    def stop(self, cluster: Cluster) -> None:
        """This backend's agent on `cluster` stopped and unsubscribed; nothing if none runs."""

    def info(self, cluster: Cluster) -> AgentInfo:
        """How the agent on `cluster` is doing, read from the cluster and its process."""


def webhook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


def for_each(clusters: list[Cluster], work) -> None:
    """`work(cluster)` on every cluster at once; the first error raised."""
    with ThreadPoolExecutor(max_workers=max(1, len(clusters))) as pool:
        list(pool.map(work, clusters))


class OurAgents:
    """The lab's agent as a host process per cluster, holding only that cluster's token."""

    kind = "ours"

    def __init__(self, lab: Delivery) -> None:
        self.lab = lab

    def service(self, cluster: Cluster) -> Service:
        return Service.named(f"agent-{cluster.name}", self.lab.root / "services")

    def start(self, interval: float, secret: str) -> None:
        lab = self.lab
        for cluster in lab.clusters:
            service = self.service(cluster)
            if service.pid():
                continue
            view = lab.credential(cluster, "agent")
            ports = {"metrics": free_port(), "webhook": free_port()}
            service.record_ports(ports)
            work = lab.root / "agents" / cluster.name
            settings = Settings(
                cluster.name, lab.config_url(), lab.namespace, work, interval=interval
            )
            launch = Launch(view.kubeconfig, view.context, ports["metrics"], ports["webhook"])
            argv = [*python_m("agent"), *agent_argv(settings, launch)]
            env = {**os.environ, SECRET_VARIABLE: secret}
            service.start(argv, ready=lambda p=ports: listening(p["metrics"]), env=env)
            lab.git.subscribe(lab.config_repo, webhook_url(ports["webhook"]))

    def stop(self, cluster: Cluster) -> None:
        service = self.service(cluster)
        ports = service.named_ports()
        if ports.get("webhook"):
            self.lab.git.unsubscribe(self.lab.config_repo, webhook_url(ports["webhook"]))
        service.stop()

    def info(self, cluster: Cluster) -> AgentInfo:
        service = self.service(cluster)
        ports = service.named_ports()
        try:
            reader = self.lab.reader(cluster)
            data = reader.get(ConfigMap, STATUS_NAME, namespace=self.lab.namespace).data or {}
        except (ApiError, LabError, OSError, httpx2.TransportError):
            data = {}  # a cluster that is down shows as no status
        running = service.pid() is not None
        return AgentInfo(cluster.name, running, ports.get("metrics"), ports.get("webhook"), data)


class OurAgentsInCluster(OurAgents):
    """The lab's agent as a Deployment in each cluster (its image loaded onto the nodes), reading
    git from the read-only mirror on the clusters' network; its webhook and metrics reach the
    host's loopback through a `kubectl port-forward` per cluster (the service recorded here)."""

    def start(self, interval: float, secret: str) -> None:
        image = self.lab.ensure_mirror()
        todo = [c for c in self.lab.clusters if not self.service(c).pid()]
        if not todo:
            return
        with tempfile.TemporaryDirectory(prefix="tellit-agent-image-") as work:
            archive = Path(work) / "agent.tar"  # saved once, loaded into every cluster at once
            docker.save(archive, image, timeout=300)
            for_each(todo, lambda c: self._start_one(c, image, archive, interval, secret))

    def _start_one(
        self, cluster: Cluster, image: str, archive: Path, interval: float, secret: str
    ) -> None:
        lab = self.lab
        lab.log(f"agent {cluster.name}: loading its image and starting it in the cluster")
        lab.owner.load_archive(cluster.name, archive)
        repo = incluster.mirror_url(lab.config_repo)
        manifest = incluster.agent_manifest(
            image, cluster.name, lab.namespace, repo, interval, secret
        )
        cluster.kubectl("apply", "-f", "-", input=manifest)
        cluster.kubectl(
            "rollout", "status", "-n", lab.namespace, f"deployment/{incluster.AGENT_NAME}",
            "--timeout=120s", timeout=150,
        )  # fmt: skip
        service = self.service(cluster)
        ports = {"metrics": free_port(), "webhook": free_port()}
        service.record_ports(ports)
        argv = cluster.kubectl_command(
            "-n", lab.namespace, *incluster.port_forward_args(ports["metrics"], ports["webhook"])
        )
        service.start(argv, ready=lambda: listening(ports["metrics"]))
        lab.git.subscribe(lab.config_repo, webhook_url(ports["webhook"]))

    def stop(self, cluster: Cluster) -> None:
        super().stop(cluster)  # the port-forward, and the webhook's subscription
        cluster.kubectl(
            "delete", "-n", self.lab.namespace, "--ignore-not-found",
            f"deployment/{incluster.AGENT_NAME}", f"secret/{incluster.SECRET_NAME}",
        )  # fmt: skip


class FluxAgents:
    """Flux's source- and kustomize-controller built from their modules, as host processes per
    cluster (kwok), with the lab's receiver standing in for notification-controller."""

    kind = "flux"
    controllers_on_host = True  # in the cluster, Flux's own install runs them

    def __init__(self, lab: Delivery) -> None:
        self.lab = lab

    def host(self, cluster: Cluster) -> flux.FluxOnHost:
        return flux.FluxOnHost(cluster, self.lab.namespace, self.lab.context)

    def start(self, interval: float, secret: str) -> None:
        lab = self.lab

        def start(cluster: Cluster) -> None:
            host = self.host(cluster)
            self.install(host, cluster, interval)
            ports = host.start(secret, lab.log, controllers=self.controllers_on_host)
            lab.git.subscribe(lab.config_repo, webhook_url(ports["webhook"]))

        for_each(lab.clusters, start)

    def install(self, host: flux.FluxOnHost, cluster: Cluster, interval: float) -> None:
        host.install(self.lab.config_url(), interval)

    def stop(self, cluster: Cluster) -> None:
        host = self.host(cluster)
        webhook = host.ports().get("receiver", {}).get("webhook")
        if webhook:
            self.lab.git.unsubscribe(self.lab.config_repo, webhook_url(webhook))
        lab_runs_flux = bool(host.ports().get("source-controller"))  # kwok: the lab runs it
        if host.ports() and not lab_runs_flux:  # kind: Flux runs in the cluster
            host.uninstall(controllers_stopped=False)
        problems = host.stop()
        if lab_runs_flux:
            host.uninstall(controllers_stopped=True)
        if problems:
            raise LabError("; ".join(problems), "`python -m demo down` removes everything")

    def info(self, cluster: Cluster) -> AgentInfo:
        host = self.host(cluster)
        try:
            data = flux.read_status(self.lab.reader(cluster), self.lab.namespace).data()
        except (ApiError, LabError, OSError, httpx2.TransportError):
            data = {}
        ports = host.ports()
        return AgentInfo(
            cluster.name,
            host.running(),
            ports.get("kustomize-controller", {}).get("metrics"),
            ports.get("receiver", {}).get("webhook"),
            data,
        )


class FluxAgentsInCluster(FluxAgents):
    """Flux's own released install in each cluster (kind), pulling from the read-only mirror;
    only the lab's receiver runs on the host."""

    controllers_on_host = False

    def install(self, host: flux.FluxOnHost, cluster: Cluster, interval: float) -> None:
        flux.install_released(cluster, self.lab.log)
        host.install(incluster.mirror_url(self.lab.config_repo), interval, crds=False)
        self.lab.ensure_mirror()


def agents_for(lab: Delivery, kind: str) -> Agents:
    """The backend that runs `kind` ("ours" or "flux") where the lab's provider runs pods."""
    inside = lab.owner.info.runs_pods
    if kind == "flux":
        return FluxAgentsInCluster(lab) if inside else FluxAgents(lab)
    return OurAgentsInCluster(lab) if inside else OurAgents(lab)
