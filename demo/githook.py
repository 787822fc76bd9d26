"""The post-receive hook's body: POST the moved refs to each URL in TELLIT_HOOK_URL.

Git runs it inside the bare repository with one `old new ref` line per updated ref on stdin.
TELLIT_HOOK_URL may name several URLs, separated by spaces (one per agent); with
TELLIT_HOOK_SECRET set, each POST is signed (HMAC-SHA256 of the body, `X-Tellit-Signature`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import requests

from . import signing


def main() -> int:
    url = os.environ.get("TELLIT_HOOK_URL")
    if not url:
        return 0
    refs = []
    for line in sys.stdin:
        old, new, ref = line.split()
        refs.append({"old": old, "new": new, "ref": ref})
    payload = {"repository": Path.cwd().name.removesuffix(".git"), "refs": refs}
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    secret = os.environ.get("TELLIT_HOOK_SECRET", "")
    if secret:
        headers[signing.HEADER] = signing.signature(secret, body)
    for target in url.split():
        try:
            requests.post(target, data=body, headers=headers, timeout=5).raise_for_status()
        except requests.RequestException as error:
            # The push has happened either way; say so on the pusher's terminal and go on.
            print(f"remote: could not notify {target}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
