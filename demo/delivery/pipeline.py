"""The push pipeline: from an app commit to the new version running in every cluster.

Stages, each timed and written to a JSON run record:

1. validate: the app's manifests parse into known Kubernetes objects;
2. build: the app's image, labelled with the commit;
3. publish: push it to the registry and record its digest;
4. commit: the manifests, with `image@digest`, to the config repository;
5. deploy: server-side apply to every target cluster in parallel, each with its own
   credential (a namespaced ServiceAccount token the pipeline holds, never cluster-admin);
6. verify: in each cluster, the Deployment's new ReplicaSet is available with that digest;
   on each plain Docker host (`demo.delivery.dockerhost`, a target that is not Kubernetes), the new
   container answers with its version before the old one is removed.

One failing cluster is reported while the others are deployed; running it again converges,
since every stage is idempotent (same commit, same digest, same apply).
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx2
import yaml
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment, ReplicaSet

from demo.clusters.base import Cluster
from demo.core.errors import LabError
from demo.core.git import WorkTree, author_env
from demo.core.paths import PACKAGE, write_atomic
from demo.core.waits import until
from demo.delivery.dockerhost import DockerHost
from demo.kube.api import KubeError, apply_all, client, describe, typed
from demo.services.registry import Registry
from demo.toolchain.images import build_app

APP = PACKAGE / "app"
FIELD_MANAGER = "tellit-pipeline"
REPOSITORY = "lab/app"


class PipelineError(LabError):
    """A stage failed; the run record says which, and how far the run got."""


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    ok: bool = False
    detail: str = ""


@dataclass
class ClusterResult:
    cluster: str
    ok: bool = False
    deploy_seconds: float = 0.0
    verify_seconds: float = 0.0
    error: str = ""


@dataclass
class RunRecord:
    """What one run did: written to the lab state as JSON, shown as a table."""

    commit: str
    started: float = field(default_factory=time.time)
    image: str = ""
    config_commit: str = ""
    stages: list[Stage] = field(default_factory=list)
    clusters: list[ClusterResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages) and all(c.ok for c in self.clusters)

    def document(self) -> dict:
        """The run as JSON has it (the run file, `push --json`): its fields and whether it
        went well."""
        return {**asdict(self), "ok": self.ok}

    def save(self, folder: Path) -> Path:
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(self.started))}-{self.commit[:12]}"
        text = json.dumps(self.document(), indent=2)
        return write_atomic(folder / f"{name}.json", text, mode=0o644)


@dataclass(frozen=True)
class Target:
    """A cluster as the pipeline reaches it: through its own namespaced credential."""

    cluster: Cluster  # the credential's view: kubeconfig holding the ServiceAccount token
    namespace: str
    name: str = ""  # the cluster's own name, for reports (the view's name says whose view)

    @property
    def label(self) -> str:
        return self.name or self.cluster.name


def load_manifests(folder: Path) -> list[dict]:
    """The app's manifests; a PipelineError naming the file when one does not parse."""
    documents = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as error:
            raise PipelineError(f"{path.name} is not valid YAML: {error}", "fix it") from error
        for document in loaded:
            typed(document)  # an unknown kind fails here, before anything is built
            documents.append(document)
    if not documents:
        raise PipelineError(f"no manifests in {folder}", "put the app's YAML files there")
    return documents


def pin(manifests: Sequence[dict], image: str, namespace: str) -> list[dict]:
    """The manifests with the app container's image set to `image` and the namespace set."""
    pinned = copy.deepcopy(list(manifests))
    for manifest in pinned:
        manifest.setdefault("metadata", {})["namespace"] = namespace
        if manifest.get("kind") == "Deployment":
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                if container.get("name") == "app":
                    container["image"] = image
    return pinned


class Pipeline:
    def __init__(
        self,
        registry: Registry,
        config_url: str,
        targets: Sequence[Target],
        runs: Path,
        log: Callable[[str], None] = print,
        app: Path = APP,
        hosts: Sequence[DockerHost] = (),
        labels: Sequence[str] = (),  # `docker.lab_labels` for the images it builds
    ) -> None:
        self.labels = list(labels)
        self.registry = registry
        self.hosts = list(hosts)  # targets that are not Kubernetes: plain Docker hosts
        self.config_url = config_url  # with the pipeline's push token in it
        self.targets = list(targets)
        self.runs = runs
        self.log = log
        self.app = app

    def run(self, commit: str, build: bool = True) -> RunRecord:
        """One run for the app at `commit`; the record is saved whatever happens."""
        record = RunRecord(commit)
        try:
            manifests = self._stage(record, "validate", lambda: load_manifests(self.app / "deploy"))
            if build:
                self._stage(
                    record,
                    "build",
                    lambda: build_app(
                        f"tellit-app:{commit[:12]}", commit[:12], self.app, self.labels
                    ),
                )
            digest = self._stage(
                record,
                "publish",
                lambda: self.registry.push(f"tellit-app:{commit[:12]}", REPOSITORY, commit[:12]),
            )
            record.image = f"{self.registry.address}/{REPOSITORY}@{digest}"
            record.config_commit = self._stage(
                record, "commit", lambda: self._commit(manifests, record)
            )
            if self.targets or self.hosts:
                self._stage(
                    record, "deploy and verify", lambda: self._deploy_all(manifests, record)
                )
            else:  # pull: the agents take it from the config repository
                self.log("pipeline: no targets (pull mode): the agents deploy from git")
        except PipelineError as error:
            self.log(f"pipeline: {error.message}")
        finally:
            path = record.save(self.runs)
            self.log(f"pipeline: run record {path}")
        return record

    def _stage(self, record: RunRecord, name: str, work: Callable):
        stage = Stage(name)
        record.stages.append(stage)
        started = time.perf_counter()
        self.log(f"pipeline: {name}")
        try:
            result = work()
            stage.ok = True
            return result
        except LabError as error:
            stage.detail = error.message
            raise PipelineError(f"{name} failed: {error.message}", error.fix) from error
        finally:
            stage.seconds = round(time.perf_counter() - started, 3)

    def _commit(self, manifests: list[dict], record: RunRecord) -> str:
        """Write the pinned manifests to the config repository (its deploy/ folder) and push."""
        with tempfile.TemporaryDirectory(prefix="tellit-config-") as work:
            env = author_env("tellit pipeline", "pipeline@tellit.invalid")
            tree = WorkTree.clone_or_init(self.config_url, Path(work), env)
            deploy = tree.folder / "deploy"
            deploy.mkdir(exist_ok=True)
            pinned = pin(manifests, record.image, namespace="")
            for manifest in pinned:
                manifest["metadata"].pop("namespace")
            (deploy / "app.yaml").write_text(yaml.safe_dump_all(pinned, sort_keys=False))
            if tree.commit_all(f"app {record.commit[:12]}: {record.image}"):
                tree.push(self.config_url)
            return tree.head()

    def _deploy_all(self, manifests: list[dict], record: RunRecord) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(self.targets) + len(self.hosts))) as pool:
            clusters = pool.map(lambda t: self._deploy(t, manifests, record.image), self.targets)
            hosts = pool.map(lambda h: self._deploy_host(h, record), self.hosts)
            record.clusters = [*clusters, *hosts]
        failed = [c for c in record.clusters if not c.ok]
        if failed:
            raise PipelineError(
                f"{len(failed)} of {len(record.clusters)} cluster(s) failed: "
                + "; ".join(f"{c.cluster}: {c.error}" for c in failed),
                "fix those clusters (`python -m demo status`), then run the pipeline again",
            )

    def _deploy_host(self, host: DockerHost, record: RunRecord) -> ClusterResult:
        """A plain Docker host: pull by digest, start beside the old one, check the version."""
        result = ClusterResult(host.label)
        try:
            result.deploy_seconds = round(host.deploy(record.image, record.commit[:12]), 3)
            result.ok = True
            self.log(f"pipeline: {host.label} runs {record.image.rsplit('@', 1)[-1][:19]}")
        except LabError as error:
            result.error = error.message
            self.log(f"pipeline: {host.label} failed: {error.message}")
        return result

    def _deploy(self, target: Target, manifests: list[dict], image: str) -> ClusterResult:
        result = ClusterResult(target.label)
        started = time.perf_counter()
        try:
            api = client(target.cluster, FIELD_MANAGER, namespace=target.namespace)
            apply_all(api, pin(manifests, image, target.namespace))
            result.deploy_seconds = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            wait_rollout(api, target.namespace, image)
            result.verify_seconds = round(time.perf_counter() - started, 3)
            result.ok = True
            self.log(f"pipeline: {target.label} runs {image.rsplit('@', 1)[-1][:19]}")
        except (KubeError, PipelineError) as error:
            result.error = error.message
            self.log(f"pipeline: {target.label} failed: {error.message}")
        return result


def wait_rollout(api, namespace: str, image: str, name: str = "app", timeout: float = 120) -> None:
    """Wait until the Deployment's ReplicaSet with `image` has every replica available."""
    last = [""]

    def rolled_out() -> bool:
        try:
            deployment = api.get(Deployment, name, namespace=namespace)
            wanted = deployment.spec.replicas or 0
            current = [
                rs
                for rs in api.list(ReplicaSet, namespace=namespace, labels={"app": name})
                if any(c.image == image for c in rs.spec.template.spec.containers)
            ]
            status = deployment.status
            if (
                status is not None
                and (status.observedGeneration or 0) >= (deployment.metadata.generation or 0)
                and (status.updatedReplicas or 0) == wanted
                and (status.availableReplicas or 0) == wanted
                and current
                and (current[0].status.availableReplicas or 0) == wanted
            ):
                return True
        except (ApiError, httpx2.TransportError) as error:
            problem = describe(error, "rollout check")
            if not problem.transient:  # refused, not blinking: waiting will not help
                raise PipelineError(problem.message, problem.fix) from error
            last[0] = problem.message
        else:
            last[0] = ""
        return False

    until(
        rolled_out,
        timeout=timeout,
        every=0.05,  # a lab-sized poll: a watch would be the production answer
        message=lambda: (
            f"the rollout of {image.rsplit('@', 1)[-1][:19]} did not finish in"
            f" {timeout:.0f} s" + (f" ({last[0]})" if last[0] else "")
        ),
        fix="look at the Deployment's events in that cluster",
        error=PipelineError,
    )
