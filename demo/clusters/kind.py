"""kind provider: each cluster a kind cluster in Docker, for readers and workshops.

Driven through pytest-kind's `KindCluster`, with our own pinned kind and kubectl (its released
defaults are an old kind and amd64 only) and the node image pinned by digest. Every node gets
containerd's hosts.toml for the lab's registry (kind's local-registry recipe).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .. import versions
from ..downloads import kind_binaries
from ..paths import state_dir
from ..registry import kind_hosts_toml, kind_node_commands
from ..run import run
from .base import LAB_PREFIX, Cluster, lab_name

# Registry mirrors are read from /etc/containerd/certs.d, where the recipe writes hosts.toml.
KIND_CONFIG = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
networking:
  apiServerAddress: "127.0.0.1"
"""


class KindProvider:
    name = "kind"

    def __init__(self, root: Path | None = None, image: str = versions.KIND_NODE_IMAGE) -> None:
        self.root = root or state_dir() / "kind"
        self.image = image

    def kubeconfig(self, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{lab_name(name)}.yaml"

    def config_file(self) -> Path:
        path = self.root / "kind-config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KIND_CONFIG)
        return path

    def _kind_cluster(self, name: str):
        from pytest_kind import KindCluster

        kind, kubectl = kind_binaries(self.root / "bin")
        self.kubeconfig(name).parent.mkdir(parents=True, exist_ok=True)
        # KindCluster keeps a working folder relative to the current directory: keep it in ours.
        with contextlib.chdir(self.root):
            return KindCluster(
                name=lab_name(name),
                kubeconfig=self.kubeconfig(name),
                image=self.image,
                kind_path=kind,
                kubectl_path=kubectl,
            )

    def create(self, name: str) -> Cluster:
        cluster = self._kind_cluster(name)
        cluster.create(config_file=self.config_file())  # re-used when it exists already
        for node in self.nodes(name):
            for command in kind_node_commands(node):
                run(command, input=kind_hosts_toml() if "cp" in command else None)
        return Cluster(name, self.name, self.kubeconfig(name), f"kind-{lab_name(name)}")

    def nodes(self, name: str) -> list[str]:
        kind, _ = kind_binaries(self.root / "bin")
        output = run([kind, "get", "nodes", "--name", lab_name(name)])
        return [line for line in output.split() if line]

    def delete(self, name: str) -> None:
        if name in {c.name for c in self.list()}:
            self._kind_cluster(name).delete()
        self.kubeconfig(name).unlink(missing_ok=True)

    def list(self) -> list[Cluster]:
        kind, _ = kind_binaries(self.root / "bin")
        output = run([kind, "get", "clusters"])
        return [
            Cluster(
                full.removeprefix(LAB_PREFIX),
                self.name,
                self.kubeconfig(full.removeprefix(LAB_PREFIX)),
                f"kind-{full}",
            )
            for full in output.split()
            if full.startswith(LAB_PREFIX)
        ]
