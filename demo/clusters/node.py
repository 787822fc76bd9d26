"""A control-plane node the lab can reach from the outside: its files, its static pods and its
etcd.

A provider whose nodes are Docker containers (kind's) hands one out with `Provider.node(name)`:
`docker exec` then reaches what an administrator with a shell on a kubeadm control-plane
machine reaches: the static pod manifests kubelet runs the control plane from, and etcd with the
API server's own client certificate. Providers without such a node (kwok, existing contexts)
hand out none, and the mini-lab steps that need one say why they skip.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass

from demo.core import docker
from demo.core.errors import LabError
from demo.core.run import CommandError, run

MANIFESTS = "/etc/kubernetes/manifests"
PKI = "/etc/kubernetes/pki"
ETCD = "https://127.0.0.1:2379"


@dataclass(frozen=True)
class Node:
    container: str

    def sh(self, script: str, input: str | None = None, timeout: float = 60) -> str:
        command = docker.exec_argv(
            self.container, "sh", "-c", script, interactive=input is not None
        )
        return run(command, input=input, timeout=timeout)

    def read(self, path: str) -> str:
        return self.sh(f"cat {shlex.quote(path)}")

    def write(self, path: str, text: str, mode: str = "0600") -> None:
        """Whole or not at all: written beside, then renamed (kubelet watches its manifests
        folder and must never see half a file, so the temporary name is outside it)."""
        folder = path.rsplit("/", 1)[0]
        temporary = f"/etc/kubernetes/.{path.rsplit('/', 1)[1]}.tmp"
        self.sh(
            f"mkdir -p {shlex.quote(folder)} && cat > {temporary} && chmod {mode} {temporary}"
            f" && mv {temporary} {shlex.quote(path)}",
            input=text,
        )

    def etcd_value(self, key: str) -> bytes:
        """The bytes etcd keeps under `key`, read through etcd's JSON gateway with the API
        server's own client certificate (what anyone with the node's files can do)."""
        body = json.dumps({"key": base64.b64encode(key.encode()).decode()})
        curl = (
            f"curl -sS --fail --cacert {PKI}/etcd/ca.crt --cert {PKI}/apiserver-etcd-client.crt"
            f" --key {PKI}/apiserver-etcd-client.key -X POST {ETCD}/v3/kv/range"
            f" -d {shlex.quote(body)}"
        )
        try:
            answer = json.loads(self.sh(curl))
        except (CommandError, ValueError) as error:
            raise LabError(
                f"could not read {key} from etcd in {self.container}",
                "check that the cluster is up (`python -m demo status`)",
            ) from error
        kvs = answer.get("kvs") or []
        if not kvs:
            raise LabError(f"etcd in {self.container} has no key {key}")
        return base64.b64decode(kvs[0].get("value", ""))

    def running(self, name: str) -> bool:
        """Whether a container of that name runs in the node (crictl, kubelet's view)."""
        return bool(self.sh(f"crictl ps -q --name {shlex.quote(name)}").split())
