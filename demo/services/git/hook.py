"""The post-receive hook's body: tell whoever subscribed that refs moved.

Git runs it inside the bare repository with one `old new ref` line per updated ref on stdin.
It POSTs the moved refs to every URL in TELLIT_HOOK_URL (space-separated) and in the
repository's subscriber file (the agents' webhooks), signed with HMAC-SHA256 when
TELLIT_HOOK_SECRET is set; and when main moved and the repository names a command to start
(the push pipeline, for the app repository), starts it in the background with the new commit.
The push has happened whatever fails here: failures are reported on the pusher's terminal.

It runs on every push, so it starts fast: the standard library's HTTP client and nothing of
the lab but its signing helper (requests and the lab's modules took 100 ms to import).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from demo.core import signing
from demo.core.run import start as start_process

# Per repository, beside its hooks: URLs to notify (one a line), and a command to start.
SUBSCRIBERS = "tellit-subscribers"
ON_PUSH = "tellit-on-push.json"


def targets(repository: Path) -> list[str]:
    urls = os.environ.get("TELLIT_HOOK_URL", "").split()
    subscribers = repository / SUBSCRIBERS
    if subscribers.is_file():
        urls += subscribers.read_text().split()
    return list(dict.fromkeys(urls))


def notify(urls: list[str], payload: dict) -> list[str]:
    """POST the signed payload to each URL; the ones where nothing listens any more."""
    gone = []
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    secret = os.environ.get("TELLIT_HOOK_SECRET", "")
    if secret:
        headers[signing.HEADER] = signing.signature(secret, body)
    for url in urls:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, ConnectionRefusedError):
                gone.append(url)  # an agent that stopped, or died, without unsubscribing
            else:
                print(f"remote: could not notify {url}: {error}", file=sys.stderr)
    return gone


def rewrite_subscribers(repository: Path, change: Callable[[list[str]], list[str]]) -> None:
    """The repository's subscriber list, changed by `change` under an exclusive lock.

    Its writers are the lab's threads (agents starting on several clusters at once) and the
    hooks of pushes that land together, each a process of its own: flock on a lock file
    beside the list serialises all of them, where a lock in one module served one process
    only. The list is replaced whole, through a temporary file of this process and thread's
    own (a shared temporary name made one hook fail before it started its pipeline).
    """
    path = repository / SUBSCRIBERS
    with open(repository / f".{SUBSCRIBERS}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        known = path.read_text().split() if path.is_file() else []
        wanted = list(dict.fromkeys(change(known)))
        if wanted == known:
            return
        spare = path.with_name(f".{SUBSCRIBERS}.{os.getpid()}.{threading.get_ident()}")
        spare.write_text("".join(f"{u}\n" for u in wanted))
        spare.replace(path)


def forget(repository: Path, urls: list[str]) -> None:
    """Drop subscribers nothing listens for: a dead agent's webhook stays subscribed else, and
    every later push said "could not notify" about it."""
    if not urls or not (repository / SUBSCRIBERS).is_file():
        return
    rewrite_subscribers(repository, lambda known: [u for u in known if u not in urls])
    for url in urls:
        print(f"remote: {url} no longer listens (its agent is gone): unsubscribed", file=sys.stderr)


def start(repository: Path, refs: list[dict]) -> None:
    """Start the repository's on-push command for a new main, detached, logging beside it."""
    command_file = repository / ON_PUSH
    main = next((r["new"] for r in refs if r["ref"] == "refs/heads/main"), None)
    if not command_file.is_file() or main is None or set(main) == {"0"}:
        return
    command = [*json.loads(command_file.read_text()), main]
    # Git sets GIT_DIR and friends for its hooks; what the hook starts works on other
    # repositories, so it must not inherit them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    start_process(command, log=repository / "tellit-on-push.log", env=env, cwd="/")
    print(f"remote: started {' '.join(command[-3:])}", file=sys.stderr)


def main() -> int:
    refs = []
    for line in sys.stdin:
        old, new, ref = line.split()
        refs.append({"old": old, "new": new, "ref": ref})
    repository = Path.cwd()
    payload = {"repository": repository.name.removesuffix(".git"), "refs": refs}
    gone = notify(targets(repository), payload)
    forget(repository, [url for url in gone if url not in os.environ.get("TELLIT_HOOK_URL", "")])
    start(repository, refs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
