"""The git server: anonymous clone, token push, refused anonymous push, the hook, the log."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests
from lab_support import need_git

from demo.gitserver import GitServer, summarise
from demo.services import listening

GIT_ENV = {
    **os.environ,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}


def git(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=GIT_ENV)


@pytest.fixture
def receiver():
    """A real HTTP endpoint on loopback that records what the post-receive hook sends."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_git_over_smart_http(lab_state, tmp_path, receiver):
    need_git()
    hook_url, received = receiver
    server = GitServer(hook_url=hook_url)
    server.start()
    server.create_repo("manifests")
    url = server.url("manifests")
    token = server.token()
    assert oct((server.tokens_file).stat().st_mode & 0o777) == "0o600"

    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "app.yaml").write_text("replicas: 1\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "first", cwd=work)

    anonymous = git("push", url, "main", cwd=work)
    assert anonymous.returncode != 0, "an anonymous push must be refused"
    wrong = git("push", url.replace("http://", "http://pipeline:wrong@"), "main", cwd=work)
    assert wrong.returncode != 0, "a wrong token must be refused"
    pushed = git("push", url.replace("http://", f"http://pipeline:{token}@"), "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr

    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert received == [
        {
            "repository": "manifests",
            "refs": [{"old": "0" * 40, "new": head, "ref": "refs/heads/main"}],
        }
    ]

    clone = git("clone", "-q", url, str(tmp_path / "clone"))
    assert (
        clone.returncode == 0 and (tmp_path / "clone" / "app.yaml").read_text() == "replicas: 1\n"
    )
    refs = f"{url}/info/refs?service=git-upload-pack"
    assert requests.get(refs, auth=("pipeline", token), timeout=5).status_code == 200
    assert requests.get(refs, auth=("reader", token), timeout=5).status_code == 401, (
        "a token is only good for its own user"
    )
    polled = git("-c", "protocol.version=2", "ls-remote", url)
    assert f"{head}\trefs/heads/main" in polled.stdout

    log = server.accesses()
    refused = [a for a in log if a.status == 401]
    assert len(refused) >= 2 and all(a.service == "receive-pack" or a.user == "" for a in refused)
    pushes = [a for a in log if a.service == "receive-pack" and a.method == "POST"]
    assert len(pushes) == 1 and pushes[0].user == "pipeline" and pushes[0].bytes_in > 0
    reads = [a for a in log if a.service == "upload-pack" and a.status == 200 and not a.user]
    assert reads and all(a.protocol == "version=2" for a in reads), "git reads use protocol v2"
    assert all(a.bytes_out > 0 and a.seconds >= 0 for a in log)
    reads_load = summarise(log, "upload-pack")
    assert reads_load.requests == len([a for a in log if a.service == "upload-pack"])
    assert reads_load.bytes_out == sum(a.bytes_out for a in log if a.service == "upload-pack")
    assert summarise(log).requests == len(log)

    port = server.port
    server.stop()
    assert not listening(port)
