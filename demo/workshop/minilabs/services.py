"""Part 2's mini-lab: a ClusterIP Service is an address inside the cluster only."""

from __future__ import annotations

import http.client
import re

from lightkube.resources.discovery_v1 import EndpointSlice

from demo.core.errors import LabError
from demo.core.run import start as start_process
from demo.core.waits import until
from demo.workshop.minilabs.app import PAGE, PORT, address, one_shot, run_app
from demo.workshop.minilabs.base import Bench, Step, Track


def ready_endpoints(bench: Bench) -> int:
    slices = bench.api().list(EndpointSlice, labels={"kubernetes.io/service-name": "app"})
    return sum(
        1
        for found in slices
        for endpoint in found.endpoints or []
        if endpoint.conditions and endpoint.conditions.ready
    )


def start(bench: Bench) -> None:
    run_app(bench)
    # The pods are ready before the EndpointSlice controller has put them behind the Service
    # (seen on a busy machine: 1 of 2 endpoints ready just after both pods were): wait for it.
    until(lambda: ready_endpoints(bench) == 2 or None, "both pods behind the Service")
    bench.notes["address"] = address(bench)
    bench.say(f"    the Service app has the address {bench.notes['address']}:{PORT}")


def check_start(bench: Bench) -> str | None:
    if not bench.notes.get("address") or bench.notes["address"] == "None":
        return "the Service app has no cluster IP"
    count = ready_endpoints(bench)
    return None if count == 2 else f"the Service app has {count} ready endpoints, not 2"


def inside(bench: Bench) -> None:
    url = f"http://app.{bench.namespace}.svc.cluster.local:{PORT}/"
    bench.notes["inside"] = one_shot(bench, "client", ["timeout", "10", "wget", "-qO-", url])
    bench.say(f"    a pod in the cluster fetched {url}")


def check_inside(bench: Bench) -> str | None:
    page = bench.notes.get("inside", "")
    return None if PAGE in page else f"the pod got {page.strip()[:80] or 'nothing'}, not the page"


def fetch(host: str, port: int, timeout: float = 3) -> str:
    """The body of GET / straight from host:port (no proxy): what a browser here would get."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read().decode(errors="replace")
    finally:
        connection.close()


def outside(bench: Bench) -> None:
    host = bench.notes["address"]
    try:
        page = fetch(host, PORT)
        bench.notes["outside"] = "the app answered" if PAGE in page else "something else answered"
    except (OSError, http.client.HTTPException) as error:
        bench.notes["outside"] = f"no answer ({error or type(error).__name__})"
    bench.say(f"    from this laptop, http://{host}:{PORT}/: {bench.notes['outside']}")


def check_outside(bench: Bench) -> str | None:
    if bench.notes.get("outside") != "the app answered":
        return None
    return (
        f"this machine reached the app at {bench.notes['address']}:{PORT}: it has a route into"
        " the cluster's service network, so this step cannot show the difference here"
    )


def forward(bench: Bench) -> None:
    """`kubectl port-forward`: the Service through the API server, with the reader's own
    credential, on this machine's loopback only."""
    command = bench.cluster.kubectl_command(
        "port-forward", "-n", bench.namespace, "--address", "127.0.0.1", "service/app", f":{PORT}"
    )
    process = start_process(command)  # its first line says which port it took
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            raise LabError(f"kubectl port-forward said: {line.strip() or 'nothing'}")
        bench.notes["forwarded"] = fetch("127.0.0.1", int(match.group(1)), timeout=10)
        bench.say(
            f"    http://127.0.0.1:{match.group(1)}/ on this laptop reached the Service while"
            " port-forward ran"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def check_forward(bench: Bench) -> str | None:
    page = bench.notes.get("forwarded", "")
    return None if PAGE in page else "port-forward did not bring back the app's page"


TRACK = Track(
    "services",
    2,
    "A ClusterIP Service: inside the cluster only",
    (
        Step(
            "run the app",
            "Two replicas of the app behind a Service of type ClusterIP: one stable address,"
            " spread over the ready pods.",
            "kubectl apply -f app.yaml; kubectl get service,endpointslices -n minilab-services",
            start,
            check_start,
        ),
        Step(
            "inside the cluster",
            "Another pod asks for the Service by its DNS name: it answers.",
            "kubectl run client --rm -it --image=busybox -- wget -qO- http://app.minilab-services"
            ".svc.cluster.local:8080",
            inside,
            check_inside,
            needs=("pods",),
        ),
        Step(
            "from the laptop",
            "The same address from outside the cluster: nothing routes there.",
            "curl --max-time 3 http://<the Service's address>:8080",
            outside,
            check_outside,
            needs=("pods",),
        ),
        Step(
            "through the API",
            "What a developer does instead: port-forward, through the API server, with their"
            " own credential, for themselves only.",
            "kubectl port-forward -n minilab-services service/app 8080:8080",
            forward,
            check_forward,
            needs=("pods",),
        ),
    ),
)
