"""The image registry: push an image, resolve a tag to its digest.

Here it is Debian's docker-registry (the same distribution registry as `registry:3`) on
127.0.0.1; on a reader's laptop it is a `registry:3` container on the kind network, set up with
kind's local-registry recipe (`kind_recipe`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import requests

from .clusters.base import LAB_LABEL, LAB_PREFIX
from .paths import state_dir
from .run import run
from .services import Service, free_port, listening

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


class RegistryError(RuntimeError):
    pass


@dataclass
class Registry:
    """A running registry at `address` (host:port as Docker and kubelets name it)."""

    address: str

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def push(self, local_image: str, repository: str, tag: str) -> str:
        """Tag and push a local image; the pushed manifest's digest (sha256:...)."""
        target = f"{self.address}/{repository}:{tag}"
        run(["docker", "tag", local_image, target])
        run(["docker", "push", "--quiet", target], timeout=300)
        return self.resolve(repository, tag)

    def resolve(self, repository: str, tag: str) -> str:
        """The digest a tag points at now, straight from the registry's API."""
        response = requests.head(
            f"{self.url}/v2/{repository}/manifests/{tag}",
            headers={"Accept": MANIFEST_TYPES},
            timeout=10,
        )
        if response.status_code == 404:
            raise RegistryError(f"{repository}:{tag} is not in the registry at {self.address}")
        response.raise_for_status()
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise RegistryError(f"the registry gave no digest for {repository}:{tag}")
        return digest

    def tags(self, repository: str) -> list[str]:
        response = requests.get(f"{self.url}/v2/{repository}/tags/list", timeout=10)
        response.raise_for_status()
        return sorted(response.json().get("tags") or [])


class LocalRegistry:
    """Debian's docker-registry as a lab service on loopback, its storage in the lab's state."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir() / "registry"
        self.service = Service.named("registry", root=self.root.parent / "services")

    def start(self) -> Registry:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RegistryError("docker-registry is not installed: apt-get install docker-registry")
        port = self.service.port()
        if port is None:
            port = free_port()
            self.root.mkdir(parents=True, exist_ok=True)
            config = self.root / "config.yml"
            config.write_text(CONFIG.format(storage=self.root / "storage", port=port))
            self.service.start([binary, "serve", config], ready=lambda: _answers(port), port=port)
        return Registry(f"127.0.0.1:{port}")

    def stop(self) -> None:
        self.service.stop()


def _answers(port: int) -> bool:
    if not listening(port):
        return False
    try:
        return requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200
    except requests.RequestException:
        return False


# kind's local-registry recipe, for readers: pure functions, so they are unit-tested here.
KIND_REGISTRY_NAME = f"{LAB_PREFIX}registry"
KIND_REGISTRY_PORT = 5001  # on the reader's loopback


def kind_registry_run_command(image: str = "registry:3") -> list[str]:
    """`docker run` for the reader's registry: published on loopback only, labelled for cleanup."""
    return [
        "docker",
        "run",
        "--detach",
        "--restart=always",
        "--name",
        KIND_REGISTRY_NAME,
        "--label",
        f"{LAB_LABEL}=true",
        "--publish",
        f"127.0.0.1:{KIND_REGISTRY_PORT}:5000",
        image,
    ]


def kind_hosts_toml() -> str:
    """containerd's hosts.toml that sends localhost:5001 to the registry on the kind network."""
    return f'[host."http://{KIND_REGISTRY_NAME}:5000"]\n'


def kind_node_commands(node: str) -> list[list[str]]:
    """Commands that install the hosts.toml on one kind node."""
    folder = f"/etc/containerd/certs.d/localhost:{KIND_REGISTRY_PORT}"
    return [
        ["docker", "exec", node, "mkdir", "-p", folder],
        ["docker", "exec", "-i", node, "cp", "/dev/stdin", f"{folder}/hosts.toml"],
    ]


def kind_registry_configmap() -> str:
    """The `local-registry-hosting` ConfigMap (KEP-1755) that tells tools where to push."""
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
  labels:
    {LAB_LABEL}: "true"
data:
  localRegistryHosting.v1: |
    host: "localhost:{KIND_REGISTRY_PORT}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
"""


def start_kind_registry(clusters, kubectl_apply) -> Registry:
    """Readers' registry: a container on the kind network, announced in every cluster.

    `kubectl_apply(cluster, manifest)` applies a manifest; the hosts.toml on each node is
    written by the kind provider when it creates the cluster.
    """
    running = run(["docker", "ps", "--quiet", "--filter", f"name=^{KIND_REGISTRY_NAME}$"])
    if not running.strip():
        run(kind_registry_run_command(), timeout=300)
    networks = run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", KIND_REGISTRY_NAME]
    )
    if '"kind"' not in networks:
        run(["docker", "network", "connect", "kind", KIND_REGISTRY_NAME])
    for cluster in clusters:
        kubectl_apply(cluster, kind_registry_configmap())
    return Registry(f"localhost:{KIND_REGISTRY_PORT}")
