"""The Flux side's webhook receiver: what notification-controller's Receiver does, for the lab.

notification-controller cannot be built here (the Go module proxy refuses it), so this small
loopback service stands in for its Receiver: it checks the git server's HMAC signature the
same way the lab's agent does, and on a valid call sets `reconcile.fluxcd.io/requestedAt` on
the GitRepository, which is exactly how a Receiver asks source-controller to fetch now. Its
credential may patch that one object and nothing else.

    python -m demo.delivery.flux.receiver --kubeconfig K --context C --namespace shop --port P
    (the secret comes in TELLIT_WEBHOOK_SECRET, never on the command line)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

from lightkube import ApiError, Client, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.types import PatchType

from demo.delivery.agent.reconciler import webhook_handler
from demo.delivery.flux.objects import SOURCE, requested_at_patch

GitRepository = create_namespaced_resource(
    "source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"
)


def request_reconcile(api: Client, namespace: str) -> str:
    """Annotate the GitRepository with the time now; the stamp written."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    api.patch(
        GitRepository,
        SOURCE,
        requested_at_patch(stamp),
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    return stamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.delivery.flux.receiver", description=__doc__
    )
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    config = KubeConfig.from_file(args.kubeconfig).get(context_name=args.context)
    api = Client(config=config, namespace=args.namespace, trust_env=False)
    wake = threading.Event()

    def forward() -> None:
        # One patch per wake: calls that arrive while a patch is on its way share it.
        while True:
            wake.wait()
            wake.clear()
            try:
                stamp = request_reconcile(api, args.namespace)
                print(f"reconcile requested at {stamp}", flush=True)
            except ApiError as error:
                print(f"could not annotate {SOURCE}: {error.status.message}", flush=True)
            except OSError as error:
                print(f"could not reach the cluster: {error}", flush=True)

    secret = os.environ.get("TELLIT_WEBHOOK_SECRET", "")
    if not secret:
        print("TELLIT_WEBHOOK_SECRET is not set: every call would be refused", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", args.port), webhook_handler(secret, wake.set))
    threading.Thread(target=forward, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"receiving on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
