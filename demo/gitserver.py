"""Git over smart HTTP for the lab: `git http-backend` behind a small bridge.

Why a bridge of our own rather than Python's stock CGI handler: that handler drops the
`Git-Protocol` request header, so http-backend falls back to protocol v0 and every poll
downloads the whole ref advertisement. This one passes it on as GIT_PROTOCOL (protocol v2),
checks credentials (anyone may read, or read with a token; only a token may push), and logs the
count, bytes and duration of every request: the numbers behind the polling-load claim.

    python -m demo.gitserver --root DIR --port PORT --tokens FILE --log FILE
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .clusters.base import LAB_LABEL
from .paths import state_dir
from .run import run
from .services import Service, free_port, listening


@dataclass(frozen=True)
class Access:
    """One request, as the access log records it."""

    time: float
    method: str
    path: str
    service: str
    status: int
    user: str
    bytes_in: int
    bytes_out: int
    seconds: float
    protocol: str


class GitHandler(BaseHTTPRequestHandler):
    server: GitHTTPServer
    protocol_version = "HTTP/1.1"

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
            name, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        expected = self.server.tokens.get(name)
        return name if expected and secrets.compare_digest(expected, token) else False

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self):
        started = time.perf_counter()
        url = urlsplit(self.path)
        body = self._body()
        push = "git-receive-pack" in url.path or "service=git-receive-pack" in url.query
        service = "receive-pack" if push else "upload-pack"
        user = self._user()
        if user is False or (push and not user):
            payload = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="tell-it-with-a-meme lab"')
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self._log(started, url.path, service, 401, user or "", len(body), len(payload))
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.server.root),
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": user or "",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            **self.server.hook_env,
        }
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if result.returncode != 0 and not head:
            status, payload = 500, result.stderr or b"git http-backend failed\n"
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self._log(started, url.path, service, status, user or "", len(body), len(payload))

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


class GitHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, root: Path, tokens: dict[str, str], log: Path, hook_env):
        super().__init__(address, GitHandler)
        self.root = root
        self.tokens = tokens
        self.log_path = log
        self.hook_env = hook_env
        self._lock = threading.Lock()

    def write_log(self, entry: Access) -> None:
        line = json.dumps(entry.__dict__) + "\n"
        with self._lock, self.log_path.open("a") as stream:
            stream.write(line)


@dataclass(frozen=True)
class Load:
    """What a set of requests cost the git server: the polling-load numbers."""

    requests: int
    bytes_in: int
    bytes_out: int
    seconds: float


def summarise(accesses: list[Access], service: str | None = None) -> Load:
    chosen = [a for a in accesses if service is None or a.service == service]
    return Load(
        requests=len(chosen),
        bytes_in=sum(a.bytes_in for a in chosen),
        bytes_out=sum(a.bytes_out for a in chosen),
        seconds=round(sum(a.seconds for a in chosen), 6),
    )


def read_log(path: Path) -> list[Access]:
    if not path.is_file():
        return []
    return [Access(**json.loads(line)) for line in path.read_text().splitlines() if line]


HOOK = """#!/bin/sh
# post-receive: tell the lab's pipeline which refs moved (written by demo.gitserver).
exec "{python}" -m demo.githook
"""


class GitServer:
    """The lab's git server as a service: repositories, a push token, and the access log."""

    def __init__(self, root: Path | None = None, hook_url: str = "") -> None:
        self.root = root or state_dir() / "git"
        self.repos = self.root / "repos"
        self.tokens_file = self.root / "tokens.json"
        self.log_file = self.root / "access.log"
        self.hook_url = hook_url
        self.service = Service.named("git", root=self.root.parent / "services")

    @property
    def port(self) -> int:
        port = self.service.port()
        if port is None:
            raise RuntimeError("the git server is not running: call start() first")
        return port

    def url(self, repo: str) -> str:
        return f"http://127.0.0.1:{self.port}/{repo}.git"

    def token(self, user: str = "pipeline") -> str:
        """The push token of `user`, made on first use; stored 0600 in the lab's state only."""
        tokens = json.loads(self.tokens_file.read_text()) if self.tokens_file.is_file() else {}
        if user not in tokens:
            tokens[user] = secrets.token_urlsafe(24)
            self.root.mkdir(parents=True, exist_ok=True)
            temporary = self.tokens_file.with_suffix(".tmp")
            temporary.touch(mode=0o600)
            temporary.write_text(json.dumps(tokens))
            temporary.replace(self.tokens_file)
        return tokens[user]

    def start(self) -> None:
        self.repos.mkdir(parents=True, exist_ok=True)
        self.token()
        if self.service.port() is not None:
            return
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "demo.gitserver",
            "--root",
            self.repos,
            "--port",
            port,
            "--tokens",
            self.tokens_file,
            "--log",
            self.log_file,
        ]
        if self.hook_url:
            argv += ["--hook-url", self.hook_url]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        self.service.start(argv, ready=lambda: listening(port), env=env, port=port)

    def stop(self) -> None:
        self.service.stop()

    def create_repo(self, name: str) -> Path:
        """A bare repository that accepts pushes over HTTP and runs the notify hook."""
        path = self.repos / f"{name}.git"
        if not path.is_dir():
            run(["git", "init", "--quiet", "--bare", "--initial-branch=main", path])
            run(["git", "-C", path, "config", "http.receivepack", "true"])
        hook = path / "hooks" / "post-receive"
        hook.write_text(HOOK.format(python=sys.executable))
        hook.chmod(0o755)
        return path

    def accesses(self) -> list[Access]:
        return read_log(self.log_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.gitserver", description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="folder of bare repositories")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=Path, required=True, help='JSON {"user": "token"}')
    parser.add_argument("--log", type=Path, required=True, help="JSON-lines access log")
    parser.add_argument("--hook-url", default="", help="URL the post-receive hook notifies")
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        help="address to listen on; only inside a container, whose port is published on the"
        " host's loopback, is 0.0.0.0 right",
    )
    args = parser.parse_args(argv)
    tokens = json.loads(args.tokens.read_text())
    hook_env = {"TELLIT_HOOK_URL": args.hook_url} if args.hook_url else {}
    hook_env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    server = GitHTTPServer((args.bind, args.port), args.root, tokens, args.log, hook_env)
    print(f"git server on http://{args.bind}:{args.port}/ serving {args.root}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())


# For readers on kind: the same server as a container on the kind network, so pods reach it by
# name while the host reaches it on loopback. Pure functions, unit-tested.
KIND_GIT_NAME = "tellit-git"
KIND_GIT_IMAGE = "tellit-gitserver:dev"
DOCKERFILE = Path(__file__).resolve().parent / "gitserver.Dockerfile"


def kind_git_build_command(project: Path) -> list[str]:
    return ["docker", "build", "-t", KIND_GIT_IMAGE, "-f", str(DOCKERFILE), str(project)]


def kind_git_run_command(state: Path, host_port: int, network: str = "kind") -> list[str]:
    """`docker run` for the git server: on the kind network, published on loopback only."""
    return [
        "docker",
        "run",
        "--detach",
        "--restart=unless-stopped",
        "--name",
        KIND_GIT_NAME,
        "--label",
        f"{LAB_LABEL}=true",
        "--network",
        network,
        "--publish",
        f"127.0.0.1:{host_port}:8080",
        "--volume",
        f"{state}:/srv/git",
        KIND_GIT_IMAGE,
    ]


def kind_git_url(repo: str) -> str:
    """The repository's URL as pods on the kind network see it."""
    return f"http://{KIND_GIT_NAME}:8080/{repo}.git"
