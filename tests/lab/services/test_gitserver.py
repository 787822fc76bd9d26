"""The git server: anonymous clone, token push, refused anonymous push, the hook, the log; and
hostile clients: encoded service names, huge or slow bodies, too many connections."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from support.helpers import loopback_server
from support.lab import GIT_ENV, lab_at, need_git
from support.paths import ROOT

from demo.core import entrypoints
from demo.core.processes import free_port, listening
from demo.services.git.accesslog import summarise
from demo.services.git.http import classify
from demo.services.git.server import GitServer

# No mark: these need git, which every clone has, and servers of their own on loopback.


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

    with loopback_server(Handler) as base:
        yield f"{base}/hook", received


def test_git_over_smart_http(lab_state, tmp_path, receiver):
    need_git()
    hook_url, received = receiver
    server = GitServer(lab_at(lab_state), hook_url=hook_url)
    server.start()
    server.create_repo("manifests")
    url = server.url("manifests")
    token = server.token("manifests")
    assert oct((server.tokens_file).stat().st_mode & 0o777) == "0o600"

    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "app.yaml").write_text("replicas: 1\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "first", cwd=work)

    anonymous = git("push", url, "main", cwd=work)
    assert anonymous.returncode != 0, "an anonymous push must be refused"
    wrong = git("push", url.replace("http://", "http://push-manifests:wrong@"), "main", cwd=work)
    assert wrong.returncode != 0, "a wrong token must be refused"
    pushed = git("push", server.push_url("manifests"), "main", cwd=work)
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
    assert requests.get(refs, auth=("push-manifests", token), timeout=5).status_code == 200
    assert requests.get(refs, auth=("reader", token), timeout=5).status_code == 401, (
        "a token is only good for its own user"
    )
    polled = git("-c", "protocol.version=2", "ls-remote", url)
    assert f"{head}\trefs/heads/main" in polled.stdout

    log = server.accesses()
    refused = [a for a in log if a.status == 401]
    assert len(refused) >= 2 and all(a.service == "receive-pack" or a.user == "" for a in refused)
    pushes = [a for a in log if a.service == "receive-pack" and a.method == "POST"]
    assert len(pushes) == 1 and pushes[0].user == "push-manifests" and pushes[0].bytes_in > 0
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


# Hostile clients. Each test talks raw HTTP over a socket, as an attacker would.
def raw(port: int, request: bytes, body: bytes = b"", wait: float = 30) -> bytes:
    """Send a request (and perhaps part of a body); what the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(request + body)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and _complete(answer):
                    break
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def manifests_server(state: Path, *options: str):
    """A git server with these options and a `manifests` repository, stopped afterwards."""
    need_git()
    server = GitServer(lab_at(state), options=options)
    server.start()
    server.create_repo("manifests")
    yield server
    server.stop()


@pytest.fixture
def strict_server(lab_state):
    yield from manifests_server(
        lab_state, "--max-clients", "2", "--read-timeout", "1", "--max-push-body", "4096"
    )


@pytest.mark.parametrize(
    ("target", "service", "problem"),
    [
        ("/m.git/info/refs?service=git-upload-pack", "upload-pack", None),
        ("/m.git/info/refs?service=git-receive-pack", "receive-pack", None),
        ("/m.git/info/refs?service=git-receive%2Dpack", "receive-pack", None),
        ("/m.git/info/refs?service=git%2dreceive%2dpack", "receive-pack", None),
        ("/m.git/git-receive%2Dpack", "receive-pack", None),
        ("/m.git/info/refs?service=git-upload-pack&service=git-receive-pack", "receive-pack", 400),
        ("/m.git/info/refs?service=git-upload-pack&x=1", "upload-pack", 400),
        ("/m.git/info/refs?service=git-upload-archive", "upload-pack", 403),
        ("/m.git/../../etc/passwd", "upload-pack", 404),
        ("/m.git/%2e%2e/x.git/HEAD", "upload-pack", 404),
        ("/etc/passwd", "upload-pack", 404),
        ("/m.git/HEAD", "upload-pack", None),
    ],
)
def test_requests_are_classified_from_what_they_decode_to(target, service, problem):
    classified = classify(target)
    assert classified.service == service
    assert (classified.problem[0] if classified.problem else None) == problem
    if problem is None and "service=" in target:
        assert classified.query in ("service=git-upload-pack", "service=git-receive-pack")


def test_an_encoded_service_name_gets_no_anonymous_push(strict_server):
    port = strict_server.port
    answer = raw(
        port,
        b"GET /manifests.git/info/refs?service=git-receive%2Dpack HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert status_of(answer) == 401, answer[:200]
    assert b"# service=git-receive-pack" not in answer
    entry = strict_server.accesses()[-1]
    assert (entry.status, entry.service) == (401, "receive-pack")


def test_a_large_anonymous_body_is_refused_before_it_is_read(strict_server):
    port = strict_server.port
    headers = (
        b"POST /manifests.git/git-receive-pack HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-git-receive-pack-request\r\n"
        b"Content-Length: 300000000\r\n\r\n"
    )
    # Only the first megabyte is ever sent: the answer must come without the rest.
    answer = raw(port, headers, b"\0" * (1 << 20))
    assert status_of(answer) == 401
    entry = strict_server.accesses()[-1]
    assert (entry.status, entry.bytes_in) == (401, 0), "nothing of the body was read"


def test_an_authenticated_body_is_capped(strict_server):
    token = strict_server.token("manifests")
    credentials = base64.b64encode(f"push-manifests:{token}".encode())
    answer = raw(
        strict_server.port,
        b"POST /manifests.git/git-receive-pack HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Basic " + credentials + b"\r\nContent-Length: 5000\r\n\r\n",
    )
    assert status_of(answer) == 413
    chunked = raw(
        strict_server.port,
        b"POST /manifests.git/git-receive-pack HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Basic " + credentials + b"\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"900\r\n" + b"\0" * 0x900 + b"\r\n" + b"900\r\n" + b"\0" * 0x900 + b"\r\n0\r\n\r\n",
    )
    assert status_of(chunked) == 413, "a chunked body is counted as it comes"


def test_a_slow_client_is_timed_out_and_does_not_hold_the_server(strict_server):
    port = strict_server.port
    # Promises 100 bytes, sends 10: the server gives up after its read timeout (1 s here).
    answer = raw(
        port,
        b"POST /manifests.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
        b"0123456789",
    )
    assert status_of(answer) == 408
    assert strict_server.accesses()[-1].status == 408
    answer = raw(port, b"GET /manifests.git/info/refs?service=git-upload-pack HTTP/1.1\r\n\r\n")
    assert status_of(answer) == 200, "the server still serves others"


@pytest.fixture
def bounded_server(lab_state):
    """Three connections at most, one request at a time, a second for a request's headers."""
    yield from manifests_server(
        lab_state, "--max-connections", "3", "--max-clients", "1", "--read-timeout", "1"
    )


def test_connections_are_bounded(bounded_server):
    port = bounded_server.port
    stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        for connection in stalled:
            connection.sendall(b"GET /manifests.git/info/refs")  # and never finishes the line
        time.sleep(0.2)  # all three now hold a connection
        answer = raw(port, b"GET /manifests.git/info/refs?service=git-upload-pack HTTP/1.1\r\n\r\n")
        assert status_of(answer) == 503 and b"Retry-After" in answer
    finally:
        for connection in stalled:
            connection.close()
    deadline = time.monotonic() + 30
    while True:  # the stalled ones are let go; the server serves again
        answer = raw(port, b"GET /manifests.git/info/refs?service=git-upload-pack HTTP/1.1\r\n\r\n")
        if status_of(answer) == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status_of(answer) == 200


def trickle(connection: socket.socket, stop: threading.Event) -> None:
    """A slow client: its request line a byte every 0.3 s, never finished."""
    with contextlib.suppress(OSError):
        connection.sendall(b"GET /manifests.git/info/refs?service=git-upload-pack HTTP/1.1\r\n")
        while not stop.wait(0.3):
            connection.sendall(b"X")


def test_slow_clients_hold_no_backend_slot_and_are_cut_off_at_their_deadline(strict_server):
    """40 clients trickling their headers (more than the server's 2 request slots): a real
    `git ls-remote` is still served, and each slow one is closed once its second for the
    whole request line and headers is up, however often it sends a byte."""
    stop = threading.Event()
    slow = [socket.create_connection(("127.0.0.1", strict_server.port)) for _ in range(40)]
    threads = [threading.Thread(target=trickle, args=(c, stop), daemon=True) for c in slow]
    for thread in threads:
        thread.start()
    try:
        listed = subprocess.run(
            ["git", "ls-remote", strict_server.url("manifests")],
            capture_output=True, text=True, timeout=30, env=GIT_ENV,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        closed = 0
        for connection in slow:  # within a few seconds, whatever they keep sending
            connection.settimeout(5)
            try:
                while connection.recv(4096):
                    pass
                closed += 1
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == len(slow), f"{len(slow) - closed} slow clients were still open"
    finally:
        stop.set()
        for connection in slow:
            connection.close()


def test_a_subscriber_nothing_listens_for_is_dropped_and_the_rest_kept(tmp_path, receiver):
    """A dead agent's webhook stayed subscribed, and every later push said "could not
    notify" about it: a refused connection unsubscribes it; a live subscriber stays."""
    from demo.services.git import hook as githook

    url, received = receiver
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    repository = tmp_path / "config.git"
    repository.mkdir()
    (repository / githook.SUBSCRIBERS).write_text(f"{url}\n{dead}\n")
    gone = githook.notify(githook.targets(repository), {"repository": "config", "refs": []})
    assert gone == [dead]
    githook.forget(repository, gone)
    assert (repository / githook.SUBSCRIBERS).read_text().split() == [url]
    assert received, "the live subscriber was notified"


def test_a_frozen_git_server_is_not_called_healthy(strict_server):
    """`status` called a server stopped with SIGSTOP healthy: its pid was there. Health is a
    request answered within a deadline."""
    import os
    import signal

    assert strict_server.healthy()
    pid = strict_server.service.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        assert strict_server.running(), "its process is there"
        assert not strict_server.healthy(timeout=1.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert strict_server.healthy()


def test_a_push_token_pushes_to_its_own_repository_and_is_refused_elsewhere(lab_state, tmp_path):
    """One token pushed to every repository: a stolen pipeline token (the config repository's)
    pushed a branch to the app's. Each repository has its own, refused elsewhere."""
    need_git()
    server = GitServer(lab_at(lab_state))
    server.start()
    try:
        server.create_repo("config")
        server.create_repo("app")
        work = tmp_path / "work"
        git("init", "-q", "-b", "main", str(work))
        git("commit", "-q", "--allow-empty", "-m", "one", cwd=work)
        assert git("push", server.push_url("config"), "main", cwd=work).returncode == 0
        stolen = server.push_url("config").replace("/config.git", "/app.git")
        refused = git("push", stolen, "HEAD:refs/heads/stolen", cwd=work)
        assert refused.returncode != 0
        entry = server.accesses()[-1]
        assert (entry.status, entry.user, entry.path) == (403, "push-config", "/app.git/info/refs")
        assert git("ls-remote", server.url("app"), cwd=work).stdout == "", "nothing landed"
        assert git("push", server.push_url("app"), "main", cwd=work).returncode == 0
    finally:
        server.stop()


def test_a_clone_only_server_serves_clones_and_refuses_every_push(tmp_path):
    """The in-cluster mirror's mode: no accounts file at all, so no token can push."""
    need_git()
    repos = tmp_path / "repos"
    assert git("init", "-q", "--bare", "-b", "main", str(repos / "config.git")).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", entrypoints.module("gitserver"), "--root", str(repos),
         "--port", str(port), "--clone-only", "--log", str(tmp_path / "access.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not listening(port):
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/config.git"
        assert git("ls-remote", url).returncode == 0, "clones and fetches are served"
        work = tmp_path / "work"
        git("init", "-q", "-b", "main", str(work))
        git("commit", "-q", "--allow-empty", "-m", "try", cwd=work)
        for target in (url, f"http://agent:any-token@127.0.0.1:{port}/config.git"):
            assert git("push", target, "main", cwd=work).returncode != 0
        log = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines()]
        pushes = [entry for entry in log if entry["service"] == "receive-pack"]
        assert len(pushes) >= 2 and {entry["status"] for entry in pushes} <= {401, 403}, pushes
    finally:
        server.terminate()
        server.wait(timeout=10)
    both = subprocess.run(
        [sys.executable, "-m", entrypoints.module("gitserver"), "--root", str(repos),
         "--port", "1", "--clone-only", "--tokens", "t.json", "--log", "l"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_subscribers_written_at_once_from_threads_and_processes_are_all_kept(tmp_path):
    """Agents start on several clusters at once (threads) while hooks of other pushes drop
    dead subscribers (processes): every change lands, none overwrites another's."""
    repository = tmp_path / "config.git"
    repository.mkdir()
    server = GitServer(lab_at(tmp_path))
    server.repos = tmp_path  # the lock lives with the repository, whoever writes
    urls = [f"http://127.0.0.1:{20000 + i}/" for i in range(24)]
    dead = [f"http://127.0.0.1:{30000 + i}/" for i in range(6)]
    for url in dead:
        server.subscribe("config", url)
    forget = (
        "import sys; from pathlib import Path; from demo.services.git import hook; "
        "hook.forget(Path(sys.argv[1]), sys.argv[2:])"
    )
    hooks = [
        subprocess.Popen([sys.executable, "-c", forget, str(repository), url], cwd=ROOT,
                         stderr=subprocess.DEVNULL)
        for url in dead
    ]  # fmt: skip
    threads = [threading.Thread(target=server.subscribe, args=("config", u)) for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(hook.wait(timeout=30) == 0 for hook in hooks)
    kept = (repository / "tellit-subscribers").read_text().split()
    assert sorted(kept) == sorted(urls), "every subscription kept, every dead one dropped"
