"""Part 3's mini-lab on failure: the control plane stopped, the app keeps serving; changes stop
until it is back, and it comes back to the same pods."""

from __future__ import annotations

import time

from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod

from demo.clusters.node import MANIFESTS
from demo.core.run import CommandError
from demo.core.waits import until
from demo.workshop.minilabs.app import PAGE, PORT, address, ready, run_app
from demo.workshop.minilabs.base import Bench, Step, Track

STOPPED = "/etc/kubernetes/stopped"  # where the static pods wait while the control plane is off
PARTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
REQUESTS = 20


def pods(bench: Bench) -> dict[str, int]:
    """The app's pods by name, with their containers' restarts."""
    found = bench.api().list(Pod, labels={"app": "app"})
    return {
        pod.metadata.name: sum(s.restartCount for s in pod.status.containerStatuses or [])
        for pod in found
    }


def start(bench: Bench) -> None:
    run_app(bench)
    bench.notes["pods"] = pods(bench)
    bench.notes["address"] = address(bench)
    bench.say(
        f"    pods {', '.join(sorted(bench.notes['pods']))} serve {bench.notes['address']}:{PORT}"
    )


def check_start(bench: Bench) -> str | None:
    count = ready(bench)
    return None if count == 2 else f"{count} of 2 replicas are ready"


def api_answers(bench: Bench) -> bool:
    try:
        return bench.cluster.kubectl("get", "--raw", "/readyz", timeout=5).strip() == "ok"
    except CommandError:
        return False


def serve(bench: Bench) -> int:
    """How many of REQUESTS to the Service, from the node (where users' traffic arrives),
    got the app's page."""
    assert bench.node is not None
    url = f"http://{bench.notes['address']}:{PORT}/"
    out = bench.node.sh(
        f"for i in $(seq {REQUESTS}); do curl -s -m 2 {url} | grep -c '{PAGE}'; done; true"
    )
    return sum(1 for line in out.split() if line == "1")


def stop(bench: Bench) -> None:
    assert bench.node is not None
    names = " ".join(f"{part}.yaml" for part in PARTS)
    bench.node.sh(
        f"mkdir -p {STOPPED} && cd {MANIFESTS} && for f in {names}; do"
        f" [ -f $f ] && mv $f {STOPPED}/; done; true"
    )
    started = time.perf_counter()
    until(
        lambda: None if any(bench.node.running(p) for p in PARTS) else True,
        "kubelet to stop the control plane",
        timeout=120,
        every=1,
    )
    bench.say(f"    kubelet stopped {', '.join(PARTS)} in {time.perf_counter() - started:.0f} s")
    bench.notes["served"] = serve(bench)
    bench.say(f"    the app answered {bench.notes['served']} of {REQUESTS} requests meanwhile")


def check_stop(bench: Bench) -> str | None:
    if api_answers(bench):
        return "the API server still answers"
    if bench.notes["served"] != REQUESTS:
        return f"the app answered {bench.notes['served']} of {REQUESTS} requests"
    return None


def change(bench: Bench) -> None:
    try:
        bench.cluster.kubectl(
            "scale", "deployment/app", "-n", bench.namespace, "--replicas=3", timeout=20
        )
        bench.notes["refused"] = ""
    except CommandError as error:
        last = error.message.strip().splitlines()[-1]
        bench.notes["refused"] = "refused: " + last.rsplit(": ", 1)[-1][:120]
    bench.say(f"    kubectl scale: {bench.notes['refused'] or 'it went through'}")


def check_change(bench: Bench) -> str | None:
    return None if bench.notes.get("refused") else "the change went through"


def restore(bench: Bench) -> None:
    """Put the control plane's static pods back and wait for the API (also after a failed step:
    the track never leaves a cluster without its control plane)."""
    if bench.node is None:
        return
    moved = bench.node.sh(f"ls {STOPPED} 2>/dev/null; true").split()
    if moved:
        bench.node.sh(f"mv {STOPPED}/*.yaml {MANIFESTS}/")
    if moved or not api_answers(bench):
        started = time.perf_counter()
        until(lambda: api_answers(bench) or None, "the API server to come back", timeout=240)
        bench.say(f"    the API server answers again after {time.perf_counter() - started:.0f} s")


def recover(bench: Bench) -> None:
    restore(bench)
    bench.notes["after"] = pods(bench)
    started = time.perf_counter()
    bench.cluster.kubectl("scale", "deployment/app", "-n", bench.namespace, "--replicas=3")
    until(lambda: ready(bench) == 3 or None, "3 ready replicas after the change", timeout=180)
    bench.say(
        f"    scaled to 3 in {time.perf_counter() - started:.0f} s (the controllers and the"
        " scheduler first take their leader leases back)"
    )
    bench.notes["scaled"] = ready(bench)
    bench.api().patch(Deployment, "app", {"spec": {"replicas": 2}})


def check_recover(bench: Bench) -> str | None:
    if bench.notes["after"] != bench.notes["pods"]:
        return f"the pods changed: {bench.notes['pods']} before, {bench.notes['after']} after"
    if bench.notes["scaled"] != 3:
        return f"after recovery, scaling to 3 gave {bench.notes['scaled']} ready replicas"
    return None


TRACK = Track(
    "control-plane",
    3,
    "The control plane down, the app still up",
    (
        Step(
            "run the app",
            "Two replicas behind a Service, placed by the scheduler, kept by the controllers.",
            "kubectl apply -f app.yaml",
            start,
            check_start,
            needs=("pods",),
        ),
        Step(
            "stop the control plane",
            "API server, etcd, scheduler and controllers stop (their static pods moved away)."
            " The app's pods and the node's Service rules do not need them to serve.",
            "on the control-plane node: mv /etc/kubernetes/manifests/*.yaml"
            " /etc/kubernetes/stopped/",
            stop,
            check_stop,
            needs=("pods", "node"),
        ),
        Step(
            "changes stop",
            "What stops is change: no deployment, no scaling, no repair, until it is back.",
            "kubectl scale deployment/app --replicas=3",
            change,
            check_change,
            needs=("pods", "node"),
        ),
        Step(
            "recover",
            "The control plane back first: the same pods are still running, and changes go"
            " through again.",
            "mv /etc/kubernetes/stopped/*.yaml /etc/kubernetes/manifests/;"
            " kubectl scale deployment/app --replicas=3",
            recover,
            check_recover,
            needs=("pods", "node"),
        ),
    ),
    restore=restore,
)
