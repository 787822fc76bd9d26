"""Part 3's mini-lab on Secrets: only base64, readable in etcd, guarded by RBAC (which creating
a pod walks around), and what encryption at rest changes."""

from __future__ import annotations

import base64
import os
import secrets as random
import time

import yaml
from lightkube import ApiError
from lightkube.resources.core_v1 import Pod, Secret

from demo.clusters.node import MANIFESTS
from demo.core.waits import until
from demo.kube.accounts import account_objects, service_account_kubeconfig
from demo.kube.api import client
from demo.workshop.minilabs.app import one_shot
from demo.workshop.minilabs.base import Bench, Step, Track

ENCRYPTION = "/etc/kubernetes/encryption"
PREFIX = b"k8s:enc:secretbox:v1:"
DEVELOPER = "developer"


def secret(bench: Bench, password: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": bench.namespace},
        "type": "Opaque",
        "stringData": {"password": password},
    }


def stored(bench: Bench) -> str:
    """The password as the API hands it out: base64 in `data`."""
    return bench.api().get(Secret, "db").data["password"]


def create(bench: Bench) -> None:
    bench.notes["password"] = f"s3cret-{random.token_hex(6)}"
    bench.apply(bench.namespace_object(), secret(bench, bench.notes["password"]))
    encoded = stored(bench)
    bench.say(f"    the API returns password: {encoded}")
    bench.say(f"    base64 -d gives back: {base64.b64decode(encoded).decode()}")


def check_create(bench: Bench) -> str | None:
    encoded = stored(bench)
    if encoded == bench.notes["password"]:
        return "the API returned the password as written"
    decoded = base64.b64decode(encoded).decode()
    return None if decoded == bench.notes["password"] else f"base64 -d gave {decoded!r}"


def key(bench: Bench) -> str:
    return f"/registry/secrets/{bench.namespace}/db"


def etcd(bench: Bench) -> None:
    assert bench.node is not None  # the walk skips this step without a node
    bench.notes["etcd"] = value = bench.node.etcd_value(key(bench))
    if value.startswith(b"k8s:enc:"):
        bench.say("    etcd holds it encrypted: encryption at rest is on here already")
    else:
        bench.say(f"    etcd's bytes under {key(bench)} contain {bench.notes['password']}")


def check_etcd(bench: Bench) -> str | None:
    value = bench.notes["etcd"]
    if value.startswith(b"k8s:enc:") or bench.notes["password"].encode() in value:
        return None
    return "etcd's value neither holds the password nor is encrypted"


def developer_role(bench: Bench) -> list[dict]:
    """May run pods and read their logs; may not read Secrets."""
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "create", "delete"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    return account_objects(bench.namespace, DEVELOPER, rules)


def developer(bench: Bench):
    if "developer" not in bench.notes:
        bench.apply(*developer_role(bench))
        path = bench.folder / f"{DEVELOPER}.kubeconfig"
        bench.notes["developer"] = service_account_kubeconfig(
            bench.cluster, bench.namespace, DEVELOPER, path, duration="15m"
        )
    return bench.notes["developer"]


def rbac(bench: Bench) -> None:
    api = client(developer(bench), "tellit-minilab", namespace=bench.namespace)
    try:
        api.get(Secret, "db")
        bench.notes["rbac"] = 200
    except ApiError as error:
        bench.notes["rbac"] = error.status.code
    try:
        list(api.list(Pod))
        bench.notes["pods"] = 200
    except ApiError as error:
        bench.notes["pods"] = error.status.code
    bench.say(
        f"    as {DEVELOPER}: get secret db -> {bench.notes['rbac']}, list pods ->"
        f" {bench.notes['pods']}"
    )


def check_rbac(bench: Bench) -> str | None:
    if bench.notes["rbac"] != 403:
        return f"{DEVELOPER} read the Secret ({bench.notes['rbac']}), expected 403"
    if bench.notes["pods"] != 200:
        return f"{DEVELOPER} could not list pods ({bench.notes['pods']}), expected 200"
    return None


def through_pod(bench: Bench) -> None:
    env = [
        {
            "name": "PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
        }
    ]
    log = one_shot(
        bench,
        "leak",
        ["sh", "-c", 'echo "the password is $PASSWORD"'],
        as_cluster=developer(bench),
        env=env,
    )
    bench.notes["leak"] = log
    bench.say(f"    {DEVELOPER}'s pod printed: {log.strip()}")


def check_through_pod(bench: Bench) -> str | None:
    if bench.notes["password"] in bench.notes.get("leak", ""):
        return None
    return f"the pod did not print the password: {bench.notes.get('leak', '').strip()[:80]}"


def encryption_config(secret_key: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "EncryptionConfiguration",
            "resources": [
                {
                    "resources": ["secrets"],
                    "providers": [
                        {"secretbox": {"keys": [{"name": "key1", "secret": secret_key}]}},
                        {"identity": {}},  # still reads what was written before
                    ],
                }
            ],
        },
        sort_keys=False,
    )


def with_encryption(manifest: dict) -> dict:
    """The API server's static pod, reading the encryption configuration from the node."""
    spec = manifest["spec"]
    container = spec["containers"][0]
    container["command"].append(f"--encryption-provider-config={ENCRYPTION}/config.yaml")
    container.setdefault("volumeMounts", []).append(
        {"name": "encryption", "mountPath": ENCRYPTION, "readOnly": True}
    )
    spec.setdefault("volumes", []).append(
        {"name": "encryption", "hostPath": {"path": ENCRYPTION, "type": "DirectoryOrCreate"}}
    )
    return manifest


def apiserver_hash(bench: Bench) -> str | None:
    """The running API server's configuration hash, or None while it does not answer."""
    assert bench.node is not None
    try:
        pod = bench.api("kube-system").get(Pod, f"kube-apiserver-{bench.node.container}")
    except Exception:  # refused, reset or timed out: all mean "not yet"
        return None
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
    return pod.metadata.annotations.get("kubernetes.io/config.hash") if ready else None


def encrypt(bench: Bench) -> None:
    node = bench.node
    assert node is not None
    path = f"{MANIFESTS}/kube-apiserver.yaml"
    manifest = yaml.safe_load(node.read(path))
    command = manifest["spec"]["containers"][0]["command"]
    if not any(flag.startswith("--encryption-provider-config") for flag in command):
        before = apiserver_hash(bench)
        # The key lives where the API server reads it, on the control-plane node, never in git.
        secret_key = base64.b64encode(os.urandom(32)).decode()
        node.write(f"{ENCRYPTION}/config.yaml", encryption_config(secret_key))
        node.write(path, yaml.safe_dump(with_encryption(manifest), sort_keys=False))
        bench.say("    the API server restarts with --encryption-provider-config (about a minute)")
        started = time.perf_counter()
        until(
            lambda: ((found := apiserver_hash(bench)) and found != before) or None,
            "the API server to restart with encryption at rest",
            timeout=240,
            every=1,
        )
        bench.say(f"    back after {time.perf_counter() - started:.0f} s")
    # Secrets are encrypted when written: write this one again, as the docs' rewrite does.

    def rewritten() -> bool:
        text = bench.cluster.kubectl("get", "secret", "db", "-n", bench.namespace, "-o", "json")
        bench.cluster.kubectl("replace", "-f", "-", input=text)
        bench.notes["encrypted"] = node.etcd_value(key(bench))
        return bench.notes["encrypted"].startswith(PREFIX)

    # An API server of the old configuration may answer a write: write it again until etcd
    # holds it encrypted.
    until(rewritten, "etcd to hold the rewritten Secret encrypted", 60, every=2)
    value = bench.notes["encrypted"]
    shown = PREFIX.decode() if value.startswith(PREFIX) else repr(value[:40])
    bench.say(f"    etcd now holds {shown}... and {len(value)} bytes of ciphertext, no password")


def check_encrypt(bench: Bench) -> str | None:
    value = bench.notes["encrypted"]
    if not value.startswith(PREFIX):
        return f"etcd's value does not start with {PREFIX.decode()}"
    if bench.notes["password"].encode() in value:
        return "the password is still readable in etcd"
    decoded = base64.b64decode(stored(bench)).decode()
    if decoded != bench.notes["password"]:
        return f"the API now returns {decoded!r}, not the password"
    return None


TRACK = Track(
    "secrets",
    3,
    "A Secret is only base64",
    (
        Step(
            "create a Secret",
            "A Secret with a password: the API hands it back base64-encoded, which anyone can"
            " decode.",
            "kubectl create secret generic db --from-literal=password=...; kubectl get secret db"
            " -o jsonpath='{.data.password}' | base64 -d",
            create,
            check_create,
        ),
        Step(
            "read etcd",
            "Whoever reaches etcd (a backup, a disk, the node) reads it there too: by default"
            " nothing is encrypted.",
            "etcdctl get /registry/secrets/minilab-secrets/db (on the control-plane node)",
            etcd,
            check_etcd,
            needs=("node",),
        ),
        Step(
            "RBAC",
            "A developer's ServiceAccount may run pods but not read Secrets: the API refuses.",
            "kubectl auth can-i get secrets --as=system:serviceaccount:minilab-secrets:developer",
            rbac,
            check_rbac,
        ),
        Step(
            "a pod reads it anyway",
            "Whoever may create a pod in the namespace can mount the Secret and print it:"
            " RBAC on Secrets is only half of it.",
            "kubectl run leak --env from the secret, then kubectl logs leak",
            through_pod,
            check_through_pod,
            needs=("pods",),
        ),
        Step(
            "encryption at rest",
            "The API server gets a key and encrypts Secrets as it writes them: etcd no longer"
            " holds the password; the API still hands it to whoever may read it.",
            "--encryption-provider-config on kube-apiserver, then kubectl replace the Secrets",
            encrypt,
            check_encrypt,
            needs=("node",),
        ),
    ),
)
