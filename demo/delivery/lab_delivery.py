"""Push and pull on the lab that `up` brought up: credentials, repositories, pipeline, agents.

Both models deliver the same app into the same namespace of every cluster, each with
credentials of its own: the pipeline holds one namespaced ServiceAccount token per cluster
(push), each agent holds only its own cluster's (pull). The app repository's post-receive
hook starts the pipeline; the config repository's hook wakes the agents. Which model
delivers is the lab's `mode`: in pull mode the pipeline stops once it has committed the
pinned manifests, and the agents apply them.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment

from demo.clusters.base import Cluster
from demo.core import docker
from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.git import WorkTree, author_env, remote_head
from demo.core.naming import check_name
from demo.core.paths import write_atomic
from demo.core.run import run
from demo.delivery.agent import incluster
from demo.delivery.agent.reconciler import FIELD_MANAGER as AGENT_MANAGER
from demo.delivery.agents import AgentInfo, Agents, agents_for, for_each, webhook_url
from demo.delivery.dockerhost import DockerHost
from demo.delivery.flux.objects import FIELD_MANAGER as FLUX_MANAGER
from demo.delivery.pipeline import APP, Pipeline, RunRecord, Target
from demo.delivery.pipeline import FIELD_MANAGER as PIPELINE_MANAGER
from demo.kube.accounts import namespaced_role, service_account_kubeconfig
from demo.kube.api import client
from demo.lab.record import LabRecord, running_registry
from demo.services.git.server import GitServer
from demo.services.registry import Registry
from demo.toolchain import pyimage

NAMESPACE = "shop"
APP_REPO = "app"
CONFIG_REPO = "config"
TOKEN_LIFETIME = "24h"
TOKEN_REUSE_SECONDS = 12 * 3600  # half the lifetime


# Who commits the app, as a reader of the lab would.
READER = ("lab reader", "reader@tellit.invalid")


class Delivery:
    """The delivery side of one lab state; raises LabError when the lab is not up."""

    namespace = NAMESPACE
    config_repo = CONFIG_REPO

    def __init__(self, lab: LabContext) -> None:
        self.context = lab  # as the command line or an experiment chose it
        self.root = lab.state
        self.log = lab.log
        self._mirror_lock = threading.Lock()
        record = LabRecord.required(self.root)
        self.owner = record.owner(lab)
        self.clusters = record.clusters_of(lab)
        registry = running_registry(self.owner, self.root)
        self.git = GitServer(lab)
        if registry is None or not self.git.running():
            raise LabError(
                "the lab's registry or git server is not running",
                "`python -m demo up` starts them again",
            )
        self.registry: Registry = registry

    # Set-up, idempotent.
    def prepare(self) -> None:
        """Namespaces, the two ServiceAccounts, both repositories, and the hooks."""
        for cluster in self.clusters:
            for account in ("pipeline", "agent"):
                cluster.kubectl("apply", "-f", "-", input=namespaced_role(NAMESPACE, account))
        self.git.create_repo(CONFIG_REPO)
        self.git.create_repo(APP_REPO)
        if not self.head(APP_REPO):
            self.commit_app("the demo app, v1")
        command = [sys.executable, "-m", "demo", "push", "--commit"]
        self.git.on_push(APP_REPO, command)

    def credential(self, cluster: Cluster, account: str) -> Cluster:
        """`cluster` as one ServiceAccount sees it, through a token kept 0600: reused while it
        has most of its life left, so that a cluster that is down fails its own deploy rather
        than the whole pipeline run (a token is asked of the cluster itself)."""
        path = self.root / "credentials" / account / f"{cluster.name}.yaml"
        if _fresh(path, cluster.kubeconfig):
            return replace(cluster, name=f"{cluster.name}-{account}", kubeconfig=path,
                           context=account)  # fmt: skip
        return service_account_kubeconfig(cluster, NAMESPACE, account, path, TOKEN_LIFETIME)

    # Git.
    def url(self, repo: str, token: bool = False) -> str:
        return self.git.push_url(repo) if token else self.git.url(repo)

    def head(self, repo: str) -> str:
        return remote_head(self.url(repo))

    def commit_app(self, message: str, change: Callable[[Path], None] | None = None) -> str:
        """Commit the app (as demo/app has it, then `change`) to the app repository; the hook
        starts the pipeline once it is set up. The new commit."""
        env = author_env(*READER)
        with tempfile.TemporaryDirectory(prefix="tellit-app-") as work:
            if self.head(APP_REPO):
                tree = WorkTree.clone(self.url(APP_REPO), Path(work), env)
            else:
                tree = WorkTree.init(Path(work), env)
                shutil.copytree(APP, tree.folder, dirs_exist_ok=True)
            if change:
                change(tree.folder)
            tree.commit_all(message, allow_empty=True)
            tree.push(self.url(APP_REPO, True))
            return tree.head()

    # Which model delivers, and in pull mode which agent: the lab's own ("ours") or Flux.
    def _delivery_state(self) -> dict:
        path = self.root / "delivery.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @property
    def mode(self) -> str:
        return self._delivery_state().get("mode", "push")

    @property
    def agent_kind(self) -> str:
        return self._delivery_state().get("agent", "ours")

    def set_mode(self, mode: str, agent: str = "ours") -> None:
        state = json.dumps({"mode": mode, "agent": agent})
        write_atomic(self.root / "delivery.json", state, mode=0o644)

    # Push.
    def push(self, commit: str = "", build: bool = True, hosts: tuple[str, ...] = ()) -> RunRecord:
        """Run the pipeline for an app commit (default: the app repository's main); `hosts`
        are plain Docker hosts it deploys to as well, in either mode (no agent runs there)."""
        commit = commit or self.head(APP_REPO)
        deploy = self.mode == "push"
        targets = [Target(self.credential(c, "pipeline"), NAMESPACE, c.name) for c in self.clusters]
        with tempfile.TemporaryDirectory(prefix="tellit-build-") as work:
            tree = WorkTree.clone(self.url(APP_REPO), Path(work) / "app", author_env(*READER))
            tree.git("checkout", "-q", commit)
            source = tree.folder
            pipeline = Pipeline(
                self.registry,
                self.url(CONFIG_REPO, token=True),
                targets if deploy else [],
                self.root / "runs",
                log=self.log,
                app=source,
                hosts=[DockerHost(check_name(h, "Docker host name"), self.root) for h in hosts],
                labels=docker.lab_labels(self.root),
            )
            return pipeline.run(commit, build=build)

    # Pull: one backend per way the agents run (demo.delivery.agents).
    def config_url(self) -> str:
        """Where the agents read the config repository (no token: they only read)."""
        return self.url(CONFIG_REPO)

    def agents_of(self, kind: str | None = None) -> Agents:
        return agents_for(self, kind or self.agent_kind)

    def start_agents(self, interval: float = 15, kind: str = "ours") -> None:
        """One agent per cluster: inside it where pods run (`demo.delivery.agent.incluster`),
        elsewhere as a host process holding only that cluster's token. `kind="flux"` runs Flux
        instead."""
        if self.agent_kind != kind and (kind == "flux" or self.mode == "pull"):
            self.stop_agents()  # two agents applying the same objects would fight
        self.agents_of(kind).start(interval, self.git.signing_secret())
        self.set_mode("pull", kind)

    def ensure_mirror(self) -> str:
        """The read-only git mirror the clusters' pods reach; the Python image it runs on."""
        image = pyimage.ensure(log=self.log)
        with self._mirror_lock:  # Flux starts on every cluster at once: one mirror
            if not docker.running(incluster.MIRROR_NAME):
                docker.remove_containers(incluster.MIRROR_NAME)
                labels = docker.lab_labels(self.root)
                mirror = incluster.mirror_run_command(
                    image, self.git.repos, self.owner.network, labels
                )
                run(mirror)
        return image

    def stop_agents(self) -> None:
        """Stop whichever agents run (ours or Flux); the lab is back to push."""
        backends = [self.agents_of("flux"), self.agents_of("ours")]

        def stop(cluster: Cluster) -> None:
            for backend in backends:
                backend.stop(cluster)

        for_each(self.clusters, stop)
        if self.owner.info.runs_pods:
            docker.remove_containers(incluster.MIRROR_NAME)
        self.set_mode("push")

    def mute_webhooks(self) -> None:
        """The git hook stops calling the agents: they learn of a commit only by polling
        (what the experiments and benchmarks measure polling with)."""
        for info in self.agents():
            if info.webhook_port:
                self.git.unsubscribe(CONFIG_REPO, webhook_url(info.webhook_port))

    def agents(self) -> list[AgentInfo]:
        backend = self.agents_of()
        return [backend.info(cluster) for cluster in self.clusters]

    def running_image(self, cluster: Cluster) -> tuple[str, frozenset[str]]:
        """The app's image in `cluster`, and which models manage it ({"push", "pull"}): whose
        server-side apply owns its fields. Both do after the same content came both ways."""
        try:
            live = self.reader(cluster).get(Deployment, "app", namespace=NAMESPACE)
        except ApiError as error:
            if error.status.code == 404:
                return "", frozenset()
            raise
        image = live.spec.template.spec.containers[0].image
        models = {PIPELINE_MANAGER: "push", AGENT_MANAGER: "pull", FLUX_MANAGER: "pull"}
        owners = {
            models[m.manager]
            for m in live.metadata.managedFields or []
            if m.operation == "Apply" and m.manager in models
        }
        return image, frozenset(owners)

    @staticmethod
    def reader(cluster: Cluster):
        """A client of `cluster`'s admin view, for reading what runs and what agents report."""
        return client(cluster, "tellit-status-reader", namespace=NAMESPACE)


def _fresh(credential: Path, admin_kubeconfig: Path) -> bool:
    """Whether a kept token can be used again: most of its life left, and issued after the
    cluster's own kubeconfig was last written (a cluster made or restarted since may not
    know it)."""
    try:
        issued = credential.stat().st_mtime
        return time.time() - issued < TOKEN_REUSE_SECONDS and (
            issued > admin_kubeconfig.stat().st_mtime
        )
    except FileNotFoundError:
        return False
