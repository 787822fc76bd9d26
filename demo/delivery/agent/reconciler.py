"""The pull agent: one per cluster, it makes the cluster match a folder of a git repository.

This is the agent readers learn the pull model from, so it is short and does one thing per
function. Each round (every `interval`, with jitter, or at once when the webhook wakes it):

1. poll: one protocol v2 ls-refs of the watched ref; fetch only when it moved;
2. read the commit's manifests; each must belong to the agent's namespace;
3. validate the whole commit with a server-side dry-run before applying any of it, so a bad
   commit changes nothing and the last good state stays (a terminal error: it waits for a new
   commit);
4. apply server-side with its own field manager, then prune what left git, only from its own
   inventory;
5. on an unchanged commit, look for drift (dry-run apply compared with the live object) and
   repair it, counting the repairs;
6. report: a status ConfigMap in its namespace (revisions, error, inventory, conditions), an
   Event per change, and Prometheus metrics on 127.0.0.1.

Errors are transient (the API or git server does not answer: back off with jitter and retry)
or terminal (a bad commit: wait for the next one). It is level-triggered: every round compares
the whole desired state with the cluster, so a missed webhook or a restart loses nothing.
Compared with Flux and Argo CD in the lab page and lab.md.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from lightkube import ApiError, Client
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Event
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from demo.core import signing
from demo.core.errors import LabError
from demo.delivery.agent import gitpoll
from demo.delivery.agent.settings import Settings, parse
from demo.kube.api import KubeError, ObjectKey, Scopes, apply_all, content, typed

FIELD_MANAGER = "tellit-agent"
STATUS_NAME = "tellit-agent-status"
MAX_WEBHOOK_BODY = 64 << 10


@dataclass
class Status:
    """What the agent reports in its namespace: the status ConfigMap's fields."""

    last_applied: str = ""
    last_attempted: str = ""
    last_error: str = ""
    inventory: list[dict] = field(default_factory=list)
    repairs: int = 0
    ready: bool = False
    reason: str = "Starting"
    interval: float = 0.0  # the agent's poll interval: how old a heartbeat may be

    def data(self) -> dict[str, str]:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        condition = {
            "type": "Ready",
            "status": "True" if self.ready else "False",
            "reason": self.reason,
            "message": self.last_error or f"applied {self.last_applied[:12]}",
            "lastTransitionTime": now,
        }
        return {
            "lastAppliedRevision": self.last_applied,
            "lastAttemptedRevision": self.last_attempted,
            "lastError": self.last_error,
            "inventory": json.dumps(self.inventory),
            "driftRepairs": str(self.repairs),
            "conditions": json.dumps([condition]),
            # Written at the end of every round: a process that is alive but stuck, or gone
            # without a word, stops it (a pid alone cannot tell).
            "heartbeat": now,
            "interval": f"{self.interval:g}",
        }

    @classmethod
    def from_data(cls, data: dict[str, str]) -> Status:
        return cls(
            last_applied=data.get("lastAppliedRevision", ""),
            last_attempted=data.get("lastAttemptedRevision", ""),
            last_error=data.get("lastError", ""),
            inventory=json.loads(data.get("inventory") or "[]"),
            repairs=int(data.get("driftRepairs") or 0),
        )


class Refused(KubeError):
    """The API server refused a commit for want of rights (401, 403): no retry makes it pass
    and no new commit is needed once the rights are granted, so it is neither Retrying (which
    waited for ever, behind it everything) nor InvalidCommit; the last good revision stays
    reconciled meanwhile, and the commit is tried again each round."""


class Metrics:
    """The agent's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("tellit_agent_polls", "git polls", ["result"], registry=r)
        self.poll_bytes = Counter(
            "tellit_agent_poll_bytes", "bytes of polls on the wire", ["direction"], registry=r
        )
        self.applies = Counter("tellit_agent_applies", "commits applied", ["result"], registry=r)
        self.repairs = Counter("tellit_agent_drift_repairs", "objects put back", registry=r)
        self.pruned = Counter("tellit_agent_pruned", "objects pruned", registry=r)
        self.rounds = Histogram("tellit_agent_round_seconds", "one reconcile round", registry=r)
        self.applied_at = Gauge(
            "tellit_agent_last_applied_timestamp_seconds", "when a commit was applied", registry=r
        )


class Agent:
    def __init__(self, settings: Settings, api: Client, log: Callable[[str], None] = print):
        self.settings = settings
        self.api = api
        self.scopes = Scopes(api)
        self.log = log
        self.http = requests.Session()
        self.metrics = Metrics()
        self.status = self._load_status()
        self.status.interval = settings.interval
        self.desired: list[dict] = []  # the last good commit's manifests
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.failures = 0

    # The loop.
    def run(self) -> None:
        """Reconcile until stopped, waiting between rounds (or until the webhook wakes it)."""
        while not self.stop.is_set():
            self.wake.clear()
            self.wake.wait(self.round())
        self.log("agent: stopped")

    def round(self) -> float:
        """One reconcile round; how long to wait before the next."""
        started = time.perf_counter()
        try:
            self.reconcile()
            self._succeeded()
            wait = self.settings.interval
        except Refused as error:
            wait = self._refused(error)
        except (KubeError, gitpoll.GitError) as error:
            wait = self._failed(error)
        except ApiError as error:  # no API error ends the agent: it is said, then retried
            code = error.status.code
            wait = self._failed(KubeError(f"the API server answered {error}", "", True, code))
        except Exception as error:  # nor anything else a round meets: the loop goes on
            wait = self._failed(
                KubeError(f"the round failed ({type(error).__name__}: {error})", transient=True)
            )
        finally:
            self.metrics.rounds.observe(time.perf_counter() - started)
            self._save_status()  # the heartbeat, every round
        spread = self.settings.jitter
        return wait * random.uniform(1 - spread, 1 + spread)

    def reconcile(self) -> None:
        s = self.settings
        polled = gitpoll.poll(self.http, s.repo_url, s.ref)
        self.metrics.polls.labels("ok").inc()
        self.metrics.poll_bytes.labels("sent").inc(polled.bytes_sent)
        self.metrics.poll_bytes.labels("received").inc(polled.bytes_received)
        if polled.sha is None:
            raise gitpoll.GitError(f"{s.ref} does not exist in {s.repo_url}", transient=False)
        if polled.sha != self.status.last_applied or not self.desired:
            self._apply_commit(polled.sha)
        else:
            self._repair_drift()

    # Steps.
    def _apply_commit(self, sha: str) -> None:
        s = self.settings
        refused = self.status.reason == "InvalidCommit"
        if sha == self.status.last_attempted and refused and self.desired:
            self._repair_drift()  # a known bad commit: keep the last good state, wait for news
            return
        self.status.last_attempted = sha
        gitpoll.fetch(s.work, s.repo_url, s.ref, sha)
        manifests = self._own(gitpoll.manifests(s.work, sha, s.folder), sha)
        try:
            apply_all(self.api, manifests, dry_run=True)  # the whole commit, before any of it
        except KubeError as error:
            if error.status not in (401, 403):
                raise
            kept = self.status.last_applied[:12] or "nothing yet"
            raise Refused(
                f"{sha[:12]} refused: {error.message}",
                f"grant the agent's Role what the commit needs, or take that object out of it;"
                f" meanwhile {kept} stays applied and drift is repaired",
                status=error.status,
            ) from error
        apply_all(self.api, manifests)
        keys = [ObjectKey.of(m).as_dict() for m in manifests]
        pruned = self._prune(keys)
        first = not self.status.last_applied
        self.desired = manifests
        self.status.last_applied, self.status.inventory = sha, keys
        self.status.last_error, self.status.ready, self.status.reason = "", True, "Applied"
        self.metrics.applies.labels("ok").inc()
        self.metrics.applied_at.set_to_current_time()
        message = f"applied {sha[:12]}: {len(keys)} object(s), {pruned} pruned"
        self.log(f"agent {s.cluster}: {message}")
        self._report("Applied" if not first else "FirstApplied", message)

    def _own(self, manifests: list[dict], sha: str) -> list[dict]:
        """Put every object in the agent's namespace; refuse a commit that reaches outside."""
        namespace = self.settings.namespace
        for manifest in manifests:
            metadata = manifest.setdefault("metadata", {})
            if metadata.get("namespace", namespace) != namespace:
                raise KubeError(
                    f"{ObjectKey.of(manifest)} at {sha[:12]} is outside namespace {namespace}",
                    f"this agent manages namespace {namespace} only",
                )
            # An unknown kind is a bad commit, found before anything is applied; a known one's
            # scope is what the API server's discovery says, not a list of kinds: a
            # PriorityClass labelled with the namespace is still cluster-wide.
            typed(manifest)
            if not self.scopes.namespaced(str(manifest.get("apiVersion")), str(manifest["kind"])):
                raise KubeError(
                    f"{ObjectKey.of(manifest)} at {sha[:12]} is cluster-scoped: it is outside"
                    f" namespace {namespace}",
                    f"this agent manages namespace {namespace} only; a cluster admin applies"
                    " cluster-wide objects",
                )
            metadata["namespace"] = namespace
        return manifests

    def _prune(self, keep: list[dict]) -> int:
        """Delete what the last applied commit had and this one has not: only our own."""
        pruned = 0
        for gone in (k for k in self.status.inventory if k not in keep):
            manifest = {
                "apiVersion": gone["apiVersion"],
                "kind": gone["kind"],
                "metadata": {"name": gone["name"], "namespace": gone["namespace"]},
            }
            try:
                self.api.delete(type(typed(manifest)), gone["name"], namespace=gone["namespace"])
            except ApiError as error:
                if error.status.code != 404:
                    raise KubeError(f"prune of {gone['kind']}/{gone['name']}: {error}") from error
            pruned += 1
        self.metrics.pruned.inc(pruned)
        return pruned

    def _repair_drift(self) -> None:
        """Compare what git says (a dry-run apply) with what runs; put back what differs."""
        if not self.desired:
            return
        wanted = apply_all(self.api, self.desired, dry_run=True)
        drifted = []
        for manifest, would_be in zip(self.desired, wanted, strict=True):
            key = ObjectKey.of(manifest)
            try:
                live = self.api.get(type(would_be), key.name, namespace=key.namespace)
            except ApiError as error:
                if error.status.code != 404:
                    raise KubeError(f"reading {key}: {error}", transient=True) from error
                drifted.append(manifest)  # deleted by hand: it is made again
                continue
            if content(live) != content(would_be):
                drifted.append(manifest)
        if drifted:
            apply_all(self.api, drifted)
            self.status.repairs += len(drifted)
            self.metrics.repairs.inc(len(drifted))
            names = ", ".join(str(ObjectKey.of(m)) for m in drifted)
            self.log(f"agent {self.settings.cluster}: drift repaired: {names}")
            self._report("DriftRepaired", f"put back {names}")

    def _refused(self, error: Refused) -> float:
        """Say so (once per message), then keep the last good revision as git had it."""
        said = self.status.reason == "Refused" and self.status.last_error == error.message
        self.status.last_error, self.status.ready, self.status.reason = (
            error.message,
            False,
            "Refused",
        )
        self.failures = 0
        if not said:
            self.metrics.applies.labels("refused").inc()
            self.log(f"agent {self.settings.cluster}: {error.message}")
            self._report("Refused", f"{error.message} ({error.fix})", warning=True)
        try:
            self._repair_drift()
        except (KubeError, ApiError) as repair:  # said; the next round tries again
            self.log(f"agent {self.settings.cluster}: drift not repaired ({repair})")
        return self.settings.interval

    def _succeeded(self) -> None:
        """A round that worked clears what the last failure set (an outage that ended, say),
        and Ready follows the rollout: applied is not running (Flux's health checks)."""
        self.failures = 0
        if not self.status.last_applied or self.status.reason in ("InvalidCommit", "Refused"):
            return  # a commit the agent will not apply: said, and kept until a new one
        failing = self._rollout_failure()
        if failing is None:
            self.status.last_error, self.status.ready, self.status.reason = "", True, "Applied"
            return
        reason, message = failing
        known = (self.status.reason, self.status.last_error) == (reason, message)
        self.status.last_error, self.status.ready, self.status.reason = message, False, reason
        if not known:
            self.log(f"agent {self.settings.cluster}: {message}")
            self._report(reason, message, warning=True)

    def _rollout_failure(self) -> tuple[str, str] | None:
        """(reason, message) of the first Deployment of the last good commit whose rollout
        failed (pods refused, say by Pod Security, or its progress deadline passed)."""
        for manifest in self.desired:
            if manifest.get("kind") != "Deployment":
                continue
            key = ObjectKey.of(manifest)
            live = self.api.get(Deployment, key.name, namespace=key.namespace)
            for condition in (live.status.conditions or []) if live.status else []:
                failed = condition.type == "ReplicaFailure" and condition.status == "True"
                stalled = condition.type == "Progressing" and (
                    condition.reason == "ProgressDeadlineExceeded"
                )
                if failed or stalled:
                    return condition.reason or condition.type, (
                        f"{key} is applied but does not run: {condition.message}"
                    )
        return None

    def _failed(self, error: LabError) -> float:
        # Refused for want of rights (401, 403) is retried too: its fix (a role granted, an API
        # server back with its authorizer warmed up) never comes as a commit.
        transient = getattr(error, "transient", True) or getattr(error, "status", 0) in (401, 403)
        if isinstance(error, gitpoll.GitError):
            self.metrics.polls.labels("error").inc()
        self.status.last_error = error.message
        self.status.ready = False
        self.status.reason = "Retrying" if transient else "InvalidCommit"
        self.log(f"agent {self.settings.cluster}: {error.message}")
        if not transient:
            self.metrics.applies.labels("refused").inc()
            self._report("InvalidCommit", error.message, warning=True)
            return self.settings.interval
        self.failures += 1
        # Doubling, but never longer than a poll: an agent that backed off for a minute after
        # an outage was the last to put its cluster right (the propagation experiment).
        cap = min(self.settings.backoff_max, max(self.settings.interval, 0.5))
        return min(cap, 2 ** min(self.failures, 10) * 0.5)

    # Reporting.
    def _load_status(self) -> Status:
        try:
            found = self.api.get(ConfigMap, STATUS_NAME, namespace=self.settings.namespace)
            return Status.from_data(found.data or {})
        except ApiError:
            return Status()
        except Exception:  # the API may be down at start: the first round will say so
            return Status()

    def _save_status(self) -> None:
        status = ConfigMap(
            metadata=ObjectMeta(
                name=STATUS_NAME,
                namespace=self.settings.namespace,
                labels={"app.kubernetes.io/managed-by": FIELD_MANAGER},
            ),
            data=self.status.data(),
        )
        try:
            self.api.apply(status, field_manager=f"{FIELD_MANAGER}-status", force=True)
        except Exception as error:  # status is best effort: the cluster may be the thing down
            self.log(f"agent {self.settings.cluster}: status not written ({error})")

    def _report(self, reason: str, message: str, warning: bool = False) -> None:
        self._save_status()
        now = dt.datetime.now(dt.UTC)
        event = Event(
            metadata=ObjectMeta(generateName=f"{STATUS_NAME}.", namespace=self.settings.namespace),
            involvedObject=ObjectReference(
                apiVersion="v1",
                kind="ConfigMap",
                name=STATUS_NAME,
                namespace=self.settings.namespace,
            ),
            reason=reason,
            message=message[:1000],
            type="Warning" if warning else "Normal",
            source=EventSource(component=FIELD_MANAGER),
            firstTimestamp=now,
            lastTimestamp=now,
            count=1,
        )
        try:
            self.api.create(event)
        except Exception as error:  # events are best effort too
            self.log(f"agent {self.settings.cluster}: event not written ({error})")

    # The outside: metrics and the webhook.
    def serve_metrics(self, port: int):
        """Prometheus metrics on loopback; the server, whose address says the port."""
        server, _ = start_http_server(port, addr="127.0.0.1", registry=self.metrics.registry)
        return server

    def serve_webhook(self, port: int) -> ThreadingHTTPServer:
        """A loopback endpoint the git server's hook calls; HMAC-SHA256 over the body."""
        server = ThreadingHTTPServer(
            ("127.0.0.1", port), webhook_handler(self.settings.webhook_secret, self.wake.set)
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def webhook_handler(secret: str, wake: Callable[[], None]):
    """A handler for the git server's signed webhook: `wake()` on a valid call. The receiver
    of the Flux side (`demo.delivery.flux.receiver`) answers the same calls the same way."""

    class Webhook(BaseHTTPRequestHandler):
        timeout = 5

        def log_message(self, format, *args):
            pass

        def do_POST(self):
            claimed = self.headers.get(signing.HEADER, "")
            try:
                length = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                length = -1
            # No secret or no signature, then no length or too long: refused unread.
            if not secret or not claimed:
                self._answer(401)
            elif not 0 <= length <= MAX_WEBHOOK_BODY:
                self._answer(411 if length < 0 else 413)
            elif not signing.valid(secret, self.rfile.read(length), claimed):
                self._answer(401)
            else:
                wake()
                self._answer(202)

        def _answer(self, status: int) -> None:
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

    return Webhook


def serve(argv: list[str] | None = None) -> int:
    """The agent's process (what `python -m demo agent start` runs per cluster on kwok, and
    the container runs on kind), not a command for readers. The webhook's secret comes by
    the environment (TELLIT_WEBHOOK_SECRET), never on the command line."""
    import signal
    import sys

    from demo.clusters.base import Cluster
    from demo.kube.api import client, in_cluster_client

    settings, launch = parse(argv, "python -m demo.delivery.agent.reconciler", __doc__)
    if launch.kubeconfig is None:
        api = in_cluster_client(FIELD_MANAGER, namespace=settings.namespace)
    else:
        view = Cluster(
            settings.cluster, "agent", launch.kubeconfig, launch.context, Path("kubectl")
        )
        api = client(view, FIELD_MANAGER, namespace=settings.namespace)
    agent = Agent(settings, api, log=lambda m: print(m, flush=True))

    def stop(*_):
        agent.stop.set()
        agent.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if launch.metrics_port:
        agent.serve_metrics(launch.metrics_port)
    if launch.webhook_port:
        agent.serve_webhook(launch.webhook_port)
    print(
        f"agent {settings.cluster}: watching {settings.repo_url} every {settings.interval:g} s",
        flush=True,
    )
    agent.run()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    faulthandler.enable()  # a crash in a C extension names its Python stack in the agent's log
    raise SystemExit(serve())
