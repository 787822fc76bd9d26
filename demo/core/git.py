"""git's command lines in one place: a work tree the lab commits from, as one author.

The lab commits in four places (the app's first commit, the pipeline's pinned manifests, the
experiments' image swaps and seeded tags, the credentials experiment's stolen push); each
clones or starts a work tree, changes files, commits and pushes. `WorkTree` is that sequence,
with the author's identity in the environment and never a password prompt, every command
through `demo.core.run` so that a failure names the command and what git said.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from demo.core.run import CommandError, Finished, attempt, run

GIT = "git"


def author_env(name: str, email: str) -> dict[str, str]:
    """The environment for git commands that commit as `name`: never a password prompt."""
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def argv(*args: str | Path) -> list[str]:
    """`git ARGS` as a command line, for a caller that runs it its own way (http-backend)."""
    return [GIT, *(str(a) for a in args)]


def run_git(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:  # fmt: skip
    """`git [-C cwd] ARGS`, its output; CommandError with what git said when it fails."""
    where = ["-C", cwd] if cwd is not None else []
    return run([GIT, *where, *args], env=env, timeout=timeout)


def try_git(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Finished:  # fmt: skip
    """`git [-C cwd] ARGS` run to its end, for callers to whom a failure is an answer."""
    where = ["-C", cwd] if cwd is not None else []
    return attempt([GIT, *where, *args], env=env, timeout=timeout)


def init_bare(path: Path, accept_pushes: bool = False) -> None:
    """A bare repository on `main` (accept_pushes: git http-backend takes pushes into it)."""
    run([GIT, "init", "--quiet", "--bare", "--initial-branch=main", path])
    if accept_pushes:
        run_git("config", "http.receivepack", "true", cwd=path)


def remote_head(url: str, ref: str = "refs/heads/main", timeout: float = 60) -> str:
    """The commit `ref` names in the repository at `url`; "" for an empty repository."""
    output = run([GIT, "ls-remote", url, ref], timeout=timeout)
    return output.split()[0] if output.strip() else ""


@dataclass(frozen=True)
class WorkTree:
    folder: Path
    env: dict[str, str]

    @classmethod
    def clone(
        cls, url: str, folder: Path, env: dict[str, str], shallow: bool = False,
        timeout: float = 120,
    ) -> WorkTree:  # fmt: skip
        depth = ["--depth", "1"] if shallow else []
        run([GIT, "clone", "-q", *depth, url, folder], env=env, timeout=timeout)
        return cls(Path(folder), env)

    @classmethod
    def init(cls, folder: Path, env: dict[str, str]) -> WorkTree:
        run([GIT, "init", "-q", "-b", "main", folder], env=env)
        return cls(Path(folder), env)

    @classmethod
    def clone_or_init(cls, url: str, folder: Path, env: dict[str, str]) -> WorkTree:
        """A shallow clone of `url`, or a new repository where `url` has no commit yet (an
        empty repository cannot be cloned shallow)."""
        try:
            return cls.clone(url, folder, env, shallow=True)
        except CommandError:
            return cls.init(folder, env)

    def git(self, *args: str | Path, timeout: float = 120) -> str:
        return run_git(*args, cwd=self.folder, env=self.env, timeout=timeout)

    def try_git(self, *args: str | Path, timeout: float = 120) -> Finished:
        """A git command whose failure is an answer (a push a token may be refused)."""
        return try_git(*args, cwd=self.folder, env=self.env, timeout=timeout)

    def commit_all(self, message: str, allow_empty: bool = False) -> bool:
        """Commit every change in the tree; False when there was none (and none was allowed)."""
        self.git("add", "-A")
        if not allow_empty and not self.git("status", "--porcelain").strip():
            return False
        self.git("commit", "-q", *(["--allow-empty"] if allow_empty else []), "-m", message)
        return True

    def push(self, url: str, refspec: str = "HEAD:main", *options: str) -> None:
        self.git("push", "-q", *options, url, refspec)

    def pull(self) -> None:
        self.git("pull", "-q", "--rebase")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()
