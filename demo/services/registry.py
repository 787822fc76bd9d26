"""The image registry: push an image, resolve a tag to its digest.

Here it is Debian's docker-registry (the same distribution registry as `registry:3`) on
127.0.0.1; on a reader's laptop it is a `registry:3` container on the kind network, set up with
kind's local-registry recipe (`demo.clusters.kind.network`).

A lab state keeps its registry's address: stored image references (`host:port/repo@digest`)
stay valid across a restart. Every push is recorded with its digest in `pushed.jsonl`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from demo.core import docker
from demo.core.errors import LabError
from demo.core.processes import listening
from demo.services.background import Service

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)

CONFIG = """\
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
"""


class RegistryError(LabError):
    """The registry refused, failed or could not be reached."""


@dataclass(frozen=True)
class Push:
    """One image pushed by the lab, as `pushed.jsonl` records it."""

    time: float
    repository: str
    tag: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class Registry:
    """A running registry at `address` (host:port as Docker and kubelets name it).

    `record`, when set, is the file each push is appended to.
    """

    address: str
    record: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def push(self, local_image: str, repository: str, tag: str) -> str:
        """Tag and push a local image; the pushed manifest's digest (sha256:...), recorded."""
        target = f"{self.address}/{repository}:{tag}"
        docker.push(local_image, target)
        digest = self.resolve(repository, tag)
        if self.record is not None:
            entry = Push(time.time(), repository, tag, digest)
            self.record.parent.mkdir(parents=True, exist_ok=True)
            with self.record.open("a") as stream:  # one short line: an append is atomic
                stream.write(json.dumps(entry.__dict__) + "\n")
        return digest

    def pushes(self) -> list[Push]:
        """Every push recorded for this lab state, oldest first."""
        if self.record is None or not self.record.is_file():
            return []
        lines = self.record.read_text().splitlines()
        return [Push(**json.loads(line)) for line in lines if line.strip()]

    def resolve(self, repository: str, tag: str) -> str:
        """The digest a tag points at now, straight from the registry's API."""
        response = self._request(
            "HEAD", f"/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
        )
        if response.status_code == 404:
            raise RegistryError(
                f"{repository}:{tag} is not in the registry at {self.address}",
                "push it first; `registry.tags(repository)` lists what is there",
            )
        self._check(response)
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise RegistryError(f"the registry gave no digest for {repository}:{tag}")
        return digest

    def tags(self, repository: str) -> list[str]:
        response = self._request("GET", f"/v2/{repository}/tags/list")
        if response.status_code == 404:
            return []
        self._check(response)
        return sorted(response.json().get("tags") or [])

    def healthy(self) -> bool:
        try:
            return self._request("GET", "/v2/", timeout=2).status_code == 200
        except RegistryError:
            return False

    def _request(self, method: str, path: str, timeout: float = 10, **options):
        try:
            return requests.request(method, self.url + path, timeout=timeout, **options)
        except requests.RequestException as error:
            raise RegistryError(
                f"the registry at {self.address} does not answer ({type(error).__name__})",
                "start the lab with `python -m demo up`; `python -m demo status` shows it",
            ) from error

    def _check(self, response) -> None:
        if response.status_code >= 400:
            raise RegistryError(
                f"the registry at {self.address} answered {response.status_code} for"
                f" {response.request.method} {response.url}",
                "see the registry's log in the lab state (services/registry/log)",
            )


class LocalRegistry:
    """Debian's docker-registry as a lab service on loopback, its storage in the lab's state."""

    def __init__(self, root: Path) -> None:
        self.root = root  # the lab state's registry folder
        self.service = Service.named("registry", root=self.root.parent / "services")

    @property
    def record(self) -> Path:
        return self.root / "pushed.jsonl"

    def start(self) -> Registry:
        """Start the registry (or find it running) on this lab state's own port."""
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RegistryError("Debian's docker-registry is not installed", "run `make provision`")
        port = self.service.port()
        if port is None:
            port = self.service.stable_port()
            self.root.mkdir(parents=True, exist_ok=True)
            config = self.root / "config.yml"
            config.write_text(CONFIG.format(storage=self.root / "storage", port=port))
            self.service.start([binary, "serve", config], ready=lambda: _answers(port), port=port)
        return Registry(f"127.0.0.1:{port}", record=self.record)

    def running(self) -> Registry | None:
        port = self.service.port()
        return Registry(f"127.0.0.1:{port}", record=self.record) if port else None

    def stop(self) -> None:
        self.service.stop()


def _answers(port: int) -> bool:
    if not listening(port):
        return False
    try:
        return requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200
    except requests.RequestException:
        return False
