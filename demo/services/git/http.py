"""Git over smart HTTP for the lab: `git http-backend` behind a small bridge.

Why a bridge of our own rather than Python's stock CGI handler: that handler drops the
`Git-Protocol` request header, so http-backend falls back to protocol v0 and every poll
downloads the whole ref advertisement. This one passes it on as GIT_PROTOCOL (protocol v2),
checks credentials (anyone may read, or read with a token; only a token may push), and logs the
count, bytes and duration of every request: the numbers behind the polling-load claim.

It faces the network, so it is careful in this order: it classifies a request from its decoded
path and query (and hands http-backend exactly what it classified), checks credentials from the
headers, and only then reads a body, capped in size, spooled to disk, with a read timeout; at
most `max_clients` connections are served at once, the rest are told to come back (503).

    python -m demo.services.git --root DIR --port PORT --tokens FILE --log FILE
    python -m demo.services.git --root DIR --port PORT --clone-only --log FILE
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, unquote, urlsplit

from demo.core import git
from demo.core.run import attempt
from demo.services.git.accesslog import Access

SERVICES = ("git-upload-pack", "git-receive-pack")
# A repository path: one folder name ending in .git, then what git asks for inside it.
REPO_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9._-]*\.git(/[A-Za-z0-9._/-]*)?")
MAX_READ_BODY = 1 << 20  # an upload-pack request (ls-refs, fetch negotiation) is a few KB
MAX_PUSH_BODY = 64 << 20  # a push of the lab's small repositories is far below this
READ_TIMEOUT = 10.0  # seconds for a whole request's line and headers, then for its body
MAX_CLIENTS = 32  # requests served at once: each runs git http-backend
# Open connections, each a thread that mostly waits for its client: cheap, so many. A client
# that trickles its headers holds one of these for READ_TIMEOUT at most, never a backend slot.
MAX_CONNECTIONS = 512
SLOT_WAIT = 5.0  # seconds a complete request waits for a backend slot before a 503


@dataclass(frozen=True)
class Classified:
    """What a request asks for, from its decoded path and query; `problem` when it is refused."""

    path: str
    service: str  # "upload-pack" (a read) or "receive-pack" (a push)
    query: str  # the query handed to http-backend: only what was classified
    problem: tuple[int, str] | None = None


def classify(raw_path: str) -> Classified:
    """Classify a request target; pure, so every encoding trick is unit-tested.

    Decoding first means `service=git-receive%2Dpack` is a push, as http-backend will read it;
    a second `service` parameter, an unknown service, or a path outside a repository is refused.
    """
    target = urlsplit(raw_path)
    path = unquote(target.path)
    params = parse_qs(target.query, keep_blank_values=True)
    services = params.get("service", [])
    push = path.endswith("/git-receive-pack") or "git-receive-pack" in services
    kind = "receive-pack" if push else "upload-pack"
    query = f"service={services[0]}" if len(services) == 1 else ""
    problem = None
    if not REPO_PATH.fullmatch(path) or "/../" in path + "/" or "/./" in path + "/":
        problem = (404, "no such repository\n")
    elif len(services) > 1 or set(params) - {"service"}:
        problem = (400, "one service parameter, and nothing else, is expected\n")
    elif services and services[0] not in SERVICES:
        problem = (403, "unknown service\n")
    return Classified(path, kind, query, problem)


class BodyTooLarge(Exception):
    pass


class Deadline(io.RawIOBase):
    """The socket's reads, each given only what is left of one deadline.

    A socket timeout is per read: a client that sends a byte every few seconds never trips it
    and holds its connection as long as it likes. Each request gets a deadline for its line and
    headers, then one for its body (set by the handler)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.until = time.monotonic()

    def start(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class GitHandler(BaseHTTPRequestHandler):
    server: GitHTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.timeout = self.server.read_timeout  # every write of the socket
        super().setup()
        self.deadline = Deadline(self.connection)  # every read: see Deadline
        self.rfile = io.BufferedReader(self.deadline, 1 << 16)
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the
        # body until the client's delayed ACK (about 40 ms a poll, measured).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self):
        """One request, its line and headers within the deadline (an idle keep-alive too)."""
        self.deadline.start(self.server.read_timeout)
        super().handle_one_request()

    def log_message(self, format, *args):  # the JSON access log replaces the stock one
        pass

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _user(self) -> str | bool | None:
        """The user a valid token names, None when anonymous, False for bad credentials."""
        header = self.headers.get("Authorization", "")
        if not header:
            return None
        if not header.startswith("Basic "):
            return False
        try:
            name, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, binascii.Error):
            return False
        account = self.server.accounts().get(name)
        expected = account.get("token") if isinstance(account, dict) else None
        return name if expected and secrets.compare_digest(expected, token) else False

    def _body(self, limit: int, spool: IO[bytes]) -> int:
        """Copy the request body into `spool`, refusing more than `limit` bytes; its size."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            total = 0
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline(64)
                    return total
                total += size
                if total > limit:
                    raise BodyTooLarge
                _copy(self.rfile, spool, size)
                self.rfile.readline(64)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            raise BodyTooLarge
        _copy(self.rfile, spool, length)
        return length

    def _has_body(self) -> bool:
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        return chunked or self.headers.get("Content-Length", "0").strip() not in ("", "0")

    def _refuse(self, started: float, request: Classified, status: int, text: str, user=""):
        """Answer with an error without reading the body; logged before it is sent, so the log
        already holds it when the client sees the answer."""
        payload = text.encode()
        self._log(started, request.path, request.service, status, user, 0, len(payload))
        self.close_connection = True  # an unread body must not be taken for the next request
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="tell-it-with-a-meme lab"')
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self._linger()

    def _linger(self, seconds: float = 1.0, most: int = 4 << 20) -> None:
        """Close our side, then read and drop what the client still sends, briefly.

        Closing with unread data makes the kernel answer with a reset, and the client may lose
        our answer with it. Draining a bounded amount for a bounded time (as web servers'
        lingering close does) lets the refusal arrive; nothing drained is kept.
        """
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.2)
            deadline, drained = time.monotonic() + seconds, 0
            while time.monotonic() < deadline and drained < most:
                piece = self.connection.recv(65536)
                if not piece:
                    break
                drained += len(piece)

    def _serve(self):
        started = time.perf_counter()
        request = classify(self.path)
        if request.problem:
            self._refuse(started, request, *request.problem)
            return
        user = self._user()
        if user is False or (request.service == "receive-pack" and not user):
            self._refuse(started, request, 401, "authentication required\n")
            return
        repo = request.path.split("/")[1].removesuffix(".git")
        if request.service == "receive-pack" and repo not in self.server.scope(user):
            # One token per repository and purpose: the pipeline's pushes manifests only.
            self._refuse(started, request, 403, f"this token may not push to {repo}\n", user)
            return
        limit = self.server.max_push_body if user else MAX_READ_BODY
        if not self._has_body():  # a GET: nothing to read, nothing to spool
            length, answer = 0, self._backend_in_a_slot(request, user or "", 0, None)
            if answer is None:
                self._refuse(started, request, 503, BUSY_TEXT.decode(), user or "")
                return
        else:
            with tempfile.TemporaryFile(dir=self.server.spool_dir) as spool:
                self.deadline.start(self.server.read_timeout)  # for the whole body
                try:
                    length = self._body(limit, spool)
                except BodyTooLarge:
                    self._refuse(started, request, 413, f"a body over {limit} bytes\n", user or "")
                    return
                except ValueError:
                    self._refuse(started, request, 400, "a malformed body length\n", user or "")
                    return
                except TimeoutError:
                    self._refuse(started, request, 408, "the body came too slowly\n", user or "")
                    return
                spool.seek(0)
                answer = self._backend_in_a_slot(request, user or "", length, spool)
                if answer is None:
                    self._refuse(started, request, 503, BUSY_TEXT.decode(), user or "")
                    return
        self.connection.settimeout(self.server.read_timeout)  # for the answer's writes
        status, headers, payload = answer
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self._log(started, request.path, request.service, status, user or "", length, len(payload))

    def _backend_in_a_slot(self, request: Classified, user: str, length: int, body):
        """The backend's answer once a slot is free (None when none frees in time): only a
        complete request, its body read, takes one."""
        if not self.server.slots.acquire(timeout=SLOT_WAIT):
            return None
        try:
            return self._backend(request, user, length, body)
        finally:
            self.server.slots.release()

    def _backend(self, request: Classified, user: str, length: int, body: IO[bytes] | None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.server.root),
            "REQUEST_METHOD": self.command,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": user,
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            **self.server.hook_env,
        }
        result = attempt(
            git.argv("http-backend"),
            stdin=body,
            input=b"" if body is None else None,
            env=env,
        )
        head, separator, payload = result.stdout.partition(b"\r\n\r\n")
        if not separator:
            head, separator, payload = result.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if result.returncode != 0 and not head:
            status, headers, payload = 500, [], b"git http-backend failed\n"
        return status, headers, payload

    def _log(self, started, path, service, status, user, bytes_in, bytes_out):
        entry = Access(
            time=time.time(),
            method=self.command,
            path=path,
            service=service,
            status=status,
            user=user,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            seconds=round(time.perf_counter() - started, 6),
            protocol=self.headers.get("Git-Protocol", "") or "version=0",
        )
        self.server.write_log(entry)


def _copy(source: IO[bytes], target: IO[bytes], length: int) -> None:
    """Copy exactly `length` bytes in small pieces; a client that stops short times out."""
    while length > 0:
        piece = source.read(min(length, 1 << 16))
        if not piece:
            raise TimeoutError("the client closed before sending its whole body")
        target.write(piece)
        length -= len(piece)


BUSY_TEXT = b"too many clients at once: try again in a moment\n"
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
    + f"Content-Length: {len(BUSY_TEXT)}\r\nConnection: close\r\n\r\n".encode()
    + BUSY_TEXT
)


class GitHTTPServer(ThreadingHTTPServer):
    """A threading server with two bounds: `max_connections` open at once (a thread each,
    waiting for its client), and `max_clients` requests served at once (git http-backend)."""

    daemon_threads = True

    def __init__(
        self,
        address,
        root: Path,
        tokens: Path | None,  # None: no account at all, so every push is refused
        log: Path,
        hook_env: dict[str, str],
        *,
        max_clients: int = MAX_CLIENTS,
        max_connections: int = MAX_CONNECTIONS,
        read_timeout: float = READ_TIMEOUT,
        max_push_body: int = MAX_PUSH_BODY,
    ):
        super().__init__(address, GitHandler)
        self.root = root
        self.tokens_file = tokens
        self._accounts: tuple[tuple[int, int], dict] = ((0, 0), {})
        self.log_path = log
        self.hook_env = hook_env
        self.read_timeout = read_timeout
        self.max_push_body = max_push_body
        self.spool_dir = log.parent
        self.slots = threading.BoundedSemaphore(max_clients)
        self._connections = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()

    def process_request(self, request, client_address):
        """A thread for the connection, or a 503 that costs the accept loop nothing: sent
        without waiting (it fits the socket's buffer), then the connection is closed."""
        if not self._connections.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.setblocking(False)
                request.send(BUSY)
                request.shutdown(socket.SHUT_WR)
            self.close_request(request)
            self.write_log(Access(time.time(), "", "", "", 503, "", 0, len(BUSY), 0.0, ""))
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def accounts(self) -> dict[str, dict]:
        """{account: {"token", "repos"}}, read again when the file changes (the lab makes a
        repository's token when it makes the repository, while the server runs)."""
        if self.tokens_file is None:
            return {}
        try:
            stat = self.tokens_file.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._accounts[0]:
            with contextlib.suppress(ValueError, OSError):
                self._accounts = (stamp, json.loads(self.tokens_file.read_text()))
        return self._accounts[1]

    def scope(self, user: str | None) -> list[str]:
        account = self.accounts().get(user or "")
        return list(account.get("repos", [])) if isinstance(account, dict) else []

    def write_log(self, entry: Access) -> None:
        line = json.dumps(entry.__dict__) + "\n"
        with self._lock, self.log_path.open("a") as stream:
            stream.write(line)
