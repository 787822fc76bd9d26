"""Watching one ref of a git repository cheaply, the way a pull agent should.

An idle poll is one protocol v2 `ls-refs` of one ref: a POST of about 60 bytes that answers
with one line, whatever else the repository holds (protocol v0 would download every ref).
Only when the ref moved does the agent fetch, shallow, into a local bare repository, and read
the manifests of that one commit from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from demo.core.errors import LabError
from demo.core.git import init_bare, run_git, try_git
from demo.core.run import CommandError

SHA = re.compile(r"[0-9a-f]{40}")


class GitError(LabError):
    """The repository could not be read; `transient` when the server may answer later."""

    def __init__(self, message: str, fix: str = "", transient: bool = True):
        super().__init__(message, fix)
        self.transient = transient


def pkt_line(text: str) -> bytes:
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


def ls_refs_request(ref: str) -> bytes:
    """The body of a protocol v2 ls-refs command for exactly one ref."""
    return pkt_line("command=ls-refs\n") + b"0001" + pkt_line(f"ref-prefix {ref}\n") + b"0000"


def parse_ls_refs(body: bytes, ref: str) -> str | None:
    """The object id `ref` points at in an ls-refs answer, or None when it does not exist."""
    position = 0
    while position + 4 <= len(body):
        size = int(body[position : position + 4], 16)
        if size < 4:  # flush or delimiter packet
            position += 4
            continue
        line = body[position + 4 : position + size].decode("utf-8", "replace").rstrip("\n")
        position += size
        sha, _, name = line.partition(" ")
        if name.split(" ")[0] == ref and SHA.fullmatch(sha):
            return sha
    return None


@dataclass(frozen=True)
class Poll:
    """One poll's answer and what it cost on the wire."""

    sha: str | None
    bytes_sent: int
    bytes_received: int


def poll(session: requests.Session, url: str, ref: str, timeout: float = 10) -> Poll:
    """Ask the server where `ref` points now (protocol v2 ls-refs)."""
    body = ls_refs_request(ref)
    try:
        answer = session.post(
            f"{url}/git-upload-pack",
            data=body,
            headers={
                "Git-Protocol": "version=2",
                "Content-Type": "application/x-git-upload-pack-request",
                "Accept": "application/x-git-upload-pack-result",
            },
            timeout=timeout,
        )
    except requests.RequestException as error:
        raise GitError(
            f"the git server at {url} does not answer ({type(error).__name__})",
            "it is polled again; `python -m demo status` shows the git server",
        ) from error
    if answer.status_code != 200:
        raise GitError(
            f"the git server answered {answer.status_code} to a poll of {url}",
            "check the repository's URL and the agent's token",
            transient=answer.status_code >= 500,
        )
    sent = len(body) + sum(len(k) + len(v) + 4 for k, v in answer.request.headers.items())
    received = len(answer.content) + sum(len(k) + len(v) + 4 for k, v in answer.headers.items())
    return Poll(parse_ls_refs(answer.content, ref), sent, received)


def fetch(work: Path, url: str, ref: str, sha: str) -> None:
    """Fetch the commit `sha` of `ref` into the local bare repository `work` (shallow)."""
    if not (work / "HEAD").is_file():
        work.mkdir(parents=True, exist_ok=True)
        init_bare(work)
    if _has(work, sha):
        return
    try:
        run_git("fetch", "--quiet", "--depth", "1", url, ref, cwd=work, timeout=60)
    except CommandError as error:
        raise GitError(f"could not fetch {ref} from {url}", "it is tried again") from error
    if not _has(work, sha):
        raise GitError(f"{ref} moved past {sha[:12]} while it was fetched", "it is polled again")


def _has(work: Path, sha: str) -> bool:
    return try_git("cat-file", "-e", f"{sha}^{{commit}}", cwd=work).ok


# What one commit may hold, checked before anything is read or sent to a cluster: a file of
# 5,000 ConfigMaps took 136 s to apply on 2 cores, and every idle round then read them all.
MAX_OBJECTS = 500
MAX_BYTES = 8 << 20  # of YAML; one object may be up to the API server's own 1.5 MiB
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def manifests(work: Path, sha: str, folder: str) -> list[dict]:
    """Every YAML document under `folder` at commit `sha`, in path order.

    A commit that cannot be read as manifests is a terminal error: the same commit will never
    parse, so the agent keeps its last good state until a new commit arrives.
    """
    listing = run_git("ls-tree", "-r", "-l", sha, "--", folder, cwd=work)
    sizes = {}
    for line in listing.splitlines():
        info, _, path = line.partition("\t")
        size = info.split()[-1]
        sizes[path] = int(size) if size.isdigit() else 0
    kustomized = [p for p in sizes if p.rsplit("/", 1)[-1] in KUSTOMIZATIONS]
    if kustomized:
        raise GitError(
            f"{kustomized[0]} at {sha[:12]}: this lab's agent applies plain manifests and does"
            " not build kustomizations",
            "commit what `kubectl kustomize` prints instead (kubectl carries kustomize), or run"
            " the lab with Flux (`make demo AGENT=flux`), which builds them",
            transient=False,
        )
    wanted = sorted(p for p in sizes if p.endswith((".yaml", ".yml")))
    total = sum(sizes[p] for p in wanted)
    if total > MAX_BYTES:
        raise GitError(
            f"{folder} at {sha[:12]} holds {total} bytes of manifests; one commit may hold at most"
            f" {MAX_BYTES} ({MAX_BYTES >> 20} MiB)",
            "split the change over several commits, or keep large data out of git",
            transient=False,
        )
    documents: list[dict] = []
    for path in wanted:
        text = run_git("show", f"{sha}:{path}", cwd=work)
        try:
            loaded = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as error:
            raise GitError(
                f"{path} at {sha[:12]} is not valid YAML ({error.__class__.__name__})",
                "fix it in a new commit; the last good state is kept meanwhile",
                transient=False,
            ) from error
        for document in loaded:
            if not isinstance(document, dict):
                raise GitError(
                    f"{path} at {sha[:12]} holds something that is not a Kubernetes object",
                    "fix it in a new commit; the last good state is kept meanwhile",
                    transient=False,
                )
            documents.append(document)
            if len(documents) > MAX_OBJECTS:
                raise GitError(
                    f"{folder} at {sha[:12]} holds more than {MAX_OBJECTS} objects, the most one"
                    " commit may apply",
                    "split the change over several commits",
                    transient=False,
                )
    return documents
