"""The lab's handle on its git server: started as a lab service, its repositories (each with
its own push token), the signing secret of its hook, its subscribers and its access log."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from pathlib import Path

from demo.core import git
from demo.core.context import LabContext
from demo.core.entrypoints import module, python_m
from demo.core.errors import LabError
from demo.core.naming import check_name
from demo.core.paths import REPO, write_atomic
from demo.core.processes import listening
from demo.services.background import Service
from demo.services.git.accesslog import Access, read_log
from demo.services.git.hook import ON_PUSH, rewrite_subscribers


class GitServerError(LabError):
    """The git server is not running or could not start."""


HOOK = """#!/bin/sh
# post-receive: tell whoever subscribed which refs moved (written by demo.services.git.server).
exec "{python}" -m {module}
"""


def push_account(repo: str) -> str:
    """The account whose token pushes to `repo`, and only there."""
    return f"push-{repo}"


class GitServer:
    """The lab's git server as a service: repositories, a push token, and the access log."""

    def __init__(
        self,
        lab: LabContext,  # its folder is the lab state's `git`; its hooks get the lab's env
        hook_url: str = "",
        options: tuple[str, ...] = (),
        hook_secret: str = "",
    ) -> None:
        self.lab = lab
        self.root = lab.state / "git"
        self.options = options  # extra flags of the server process (limits, in tests)
        self.hook_secret = hook_secret
        self.repos = self.root / "repos"
        self.tokens_file = self.root / "tokens.json"
        self.log_file = self.root / "access.log"
        self.hook_url = hook_url
        self.service = Service.named("git", root=self.root.parent / "services")

    @property
    def port(self) -> int:
        port = self.service.port()
        if port is None:
            raise GitServerError(
                "the git server is not running", "start the lab with `python -m demo up`"
            )
        return port

    def url(self, repo: str) -> str:
        return f"http://127.0.0.1:{self.port}/{repo}.git"

    def push_url(self, repo: str) -> str:
        """The repository's URL with its push token in it, for git push."""
        user = push_account(repo)
        return self.url(repo).replace("http://", f"http://{user}:{self.token(repo)}@", 1)

    def token(self, repo: str) -> str:
        """The token that pushes to `repo` and to no other repository (one per repository
        and purpose: the pipeline's pushes manifests, the app's author the app), made on
        first use; stored 0600 in the lab's state only."""
        check_name(repo, "repository name")
        accounts = json.loads(self.tokens_file.read_text()) if self.tokens_file.is_file() else {}
        user = push_account(repo)
        if not isinstance(accounts.get(user), dict):
            accounts[user] = {"token": secrets.token_urlsafe(24), "repos": [repo]}
            write_atomic(self.tokens_file, json.dumps(accounts))
        return accounts[user]["token"]

    def running(self) -> bool:
        return self.service.port() is not None

    def healthy(self, timeout: float = 2.0) -> bool:
        """Whether it answers a request within `timeout`: a live pid is not enough (a server
        stopped with SIGSTOP, or stuck, still has one)."""
        port = self.service.port()
        if port is None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
                connection.settimeout(timeout)
                connection.sendall(b"GET /health.git/HEAD HTTP/1.1\r\nHost: lab\r\n"
                                   b"Connection: close\r\n\r\n")  # fmt: skip
                return connection.recv(16).startswith(b"HTTP/1.")
        except OSError:
            return False

    def signing_secret(self) -> str:
        """The secret the hook signs its calls with (the agents check them), made on first use
        and kept 0600 in the lab state; the one given to the constructor wins."""
        if self.hook_secret:
            return self.hook_secret
        path = self.root / "hook-secret"
        if not path.is_file():
            write_atomic(path, secrets.token_hex(32))
        return path.read_text()

    def start(self) -> None:
        """Start the server (or find it running) on this lab state's own port."""
        self.repos.mkdir(parents=True, exist_ok=True)
        if not self.tokens_file.is_file():  # the server reads it; tokens come per repository
            write_atomic(self.tokens_file, "{}")
        if self.service.port() is not None:
            return
        port = self.service.stable_port()
        argv = [
            *python_m("gitserver"),
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
        argv += list(self.options)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env["TELLIT_HOOK_SECRET"] = self.signing_secret()
        # Hooks run with HOME set to the repositories (http-backend's need): name the lab's
        # folders outright so that what a hook starts finds the same tools and state.
        env |= self.lab.child_env()
        self.service.start(argv, ready=lambda: listening(port), env=env, port=port)

    def stop(self) -> None:
        self.service.stop()

    def create_repo(self, name: str) -> Path:
        """A bare repository that accepts pushes over HTTP and runs the notify hook."""
        check_name(name, "repository name")
        path = self.repos / f"{name}.git"
        if not path.is_dir():
            git.init_bare(path, accept_pushes=True)
        self.token(name)  # its own push token, known to the server from now on
        hook = path / "hooks" / "post-receive"
        hook.write_text(HOOK.format(python=sys.executable, module=module("githook")))
        hook.chmod(0o755)
        return path

    def subscribe(self, repo: str, url: str) -> None:
        """Notify `url` (a signed POST) whenever `repo` receives a push. Safe from several
        threads and beside the repository's hooks (`rewrite_subscribers` locks the list)."""
        rewrite_subscribers(self.repos / f"{repo}.git", lambda known: [*known, url])

    def unsubscribe(self, repo: str, url: str) -> None:
        rewrite_subscribers(
            self.repos / f"{repo}.git", lambda known: [u for u in known if u != url]
        )

    def on_push(self, repo: str, command: list[str]) -> None:
        """Start `command` (with the new commit appended) whenever `repo`'s main moves."""
        write_atomic(self.repos / f"{repo}.git" / ON_PUSH, json.dumps(command))

    def accesses(self) -> list[Access]:
        return read_log(self.log_file)
