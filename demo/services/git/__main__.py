"""The git server's process: `python -m demo.services.git` (what `GitServer.start` and the
in-cluster mirror run)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from demo.core.naming import ENV_PREFIX
from demo.services.git.http import (
    MAX_CLIENTS,
    MAX_CONNECTIONS,
    MAX_PUSH_BODY,
    READ_TIMEOUT,
    GitHTTPServer,
)


def serve(argv: list[str] | None = None) -> int:
    """The server process itself (what `GitServer.start` and the container run), not a command
    for readers: they start the lab with `python -m demo up`."""
    parser = argparse.ArgumentParser(prog="python -m demo.services.git", description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="folder of bare repositories")
    parser.add_argument("--port", type=int, required=True)
    accounts = parser.add_mutually_exclusive_group(required=True)
    accounts.add_argument("--tokens", type=Path, help='JSON {"user": {"token", "repos"}}')
    accounts.add_argument(
        "--clone-only",
        action="store_true",
        help="no accounts: clones and fetches only, every push refused (the in-cluster mirror)",
    )
    parser.add_argument("--log", type=Path, required=True, help="JSON-lines access log")
    parser.add_argument("--hook-url", default="", help="URL the post-receive hook notifies")
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        help="address to listen on; only inside a container, whose port is published on the"
        " host's loopback, is 0.0.0.0 right",
    )
    parser.add_argument("--max-clients", type=int, default=MAX_CLIENTS, help="requests at once")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS)
    parser.add_argument("--read-timeout", type=float, default=READ_TIMEOUT, help="seconds")
    parser.add_argument("--max-push-body", type=int, default=MAX_PUSH_BODY, help="bytes")
    args = parser.parse_args(argv)
    # The hook runs with the lab's settings (its state folder; the signing secret, which comes
    # by the environment, never on a command line that ps shows).
    hook_env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    if args.hook_url:
        hook_env["TELLIT_HOOK_URL"] = args.hook_url
    hook_env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    server = GitHTTPServer(
        (args.bind, args.port),
        args.root,
        args.tokens,
        args.log,
        hook_env,
        max_clients=args.max_clients,
        max_connections=args.max_connections,
        read_timeout=args.read_timeout,
        max_push_body=args.max_push_body,
    )
    print(f"git server on http://{args.bind}:{args.port}/ serving {args.root}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
