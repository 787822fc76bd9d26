"""kind's network recipe in one place: the lab's registry beside its clusters.

The registry runs as a container on the clusters' network, so that nodes reach it by name
while the host pushes to it on loopback, and every node learns where it is (kind's
local-registry recipe: a containerd `hosts.toml` on each node and the `local-registry-hosting`
ConfigMap in kube-public). The pod-side git server is `demo.delivery.agent.incluster`'s. The
command lines and files are pure functions, so they are unit-tested; the few functions that run
them are at the bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from demo.core import docker
from demo.core.naming import LABEL, PREFIX
from demo.core.run import run

NETWORK = "kind"
REGISTRY_NAME = f"{PREFIX}registry"
REGISTRY_PORT = 5001  # on the reader's loopback
REGISTRY_ADDRESS = f"localhost:{REGISTRY_PORT}"  # where the host pushes, and nodes pull from
REGISTRY_IMAGE = "registry:3"
# Registry mirrors are read from this folder, where the recipe writes hosts.toml.
CERTS_D = "/etc/containerd/certs.d"
PORTS = (REGISTRY_PORT,)  # what must be free on the reader's loopback


def containerd_patch() -> str:
    """The kind config's containerd patch that makes nodes read hosts.toml files."""
    return f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_D}"'


def registry_run_command(image: str = REGISTRY_IMAGE, labels: Sequence[str] = ()) -> list[str]:
    """`docker run` for the reader's registry: published on loopback only, with the lab
    state's labels (`docker.lab_labels`) so that its `down` removes it."""
    options = ["--detach", "--restart=always", "--name", REGISTRY_NAME, *labels]
    return docker.run_argv(
        image, options=[*options, "--publish", f"127.0.0.1:{REGISTRY_PORT}:5000"]
    )


def hosts_toml() -> str:
    """containerd's hosts.toml that sends localhost:5001 to the registry on the kind network."""
    return f'[host."http://{REGISTRY_NAME}:5000"]\n'


def node_commands(node: str) -> list[tuple[list[str], str | None]]:
    """Commands (with their standard input) that install the hosts.toml on one kind node."""
    folder = f"{CERTS_D}/localhost:{REGISTRY_PORT}"
    return [
        (docker.exec_argv(node, "mkdir", "-p", folder), None),
        (
            docker.exec_argv(node, "cp", "/dev/stdin", f"{folder}/hosts.toml", interactive=True),
            hosts_toml(),
        ),
    ]


def registry_configmap() -> str:
    """The `local-registry-hosting` ConfigMap (KEP-1755) that tells tools where to push."""
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
  labels:
    {LABEL}: "true"
data:
  localRegistryHosting.v1: |
    host: "localhost:{REGISTRY_PORT}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
"""


# What runs the recipe.
def configure_node(node: str) -> None:
    for command, stdin in node_commands(node):
        run(command, input=stdin)


def registry_running() -> bool:
    return docker.running(REGISTRY_NAME)


def start_registry(
    clusters: Iterable,
    apply: Callable[[object, str], None],
    image: str = REGISTRY_IMAGE,
    network: str = NETWORK,
    labels: Sequence[str] = (),
) -> str:
    """Readers' registry: a container on the kind network, announced in every cluster.

    `apply(cluster, manifest)` applies a manifest. Returns the address to push to.
    """
    if not registry_running():
        run(registry_run_command(image, labels), timeout=300)
    networks = docker.inspect("{{json .NetworkSettings.Networks}}", REGISTRY_NAME)
    if f'"{network}"' not in networks:
        docker.connect(network, REGISTRY_NAME)
    for cluster in clusters:
        apply(cluster, registry_configmap())
    return REGISTRY_ADDRESS
