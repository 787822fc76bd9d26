"""The kind provider's commands and configs, and the verified download of kind and kubectl.

Real kind clusters are tested in test_kind_e2e.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from support.helpers import serve_folder
from support.lab import lab_at

from demo.clusters import provider
from demo.clusters.base import ClusterError
from demo.clusters.kind import network as kindnet
from demo.clusters.kind.downloads import (
    Download,
    DownloadError,
    expected_sha256,
    fetch,
    kind_download,
    kubectl_download,
    target,
)
from demo.clusters.kind.provider import KIND_CONFIG, KindProvider
from demo.core import docker, versions
from demo.core.errors import LabError
from demo.core.naming import lab_name, short_name, state_owner


def test_names_carry_the_lab_prefix_and_are_checked(tmp_path):
    assert lab_name("east") == "tellit-east"
    for bad in ("East", "-x", "a_b", "x" * 40, "", "east\n", "east\nwest", " east"):
        with pytest.raises(LabError, match="not valid") as caught:
            lab_name(bad)
        assert "lowercase letters" in caught.value.fix
    assert short_name("tellit-east") == "east"
    for foreign in ("tellit-east\n", "kind-east", "tellit-"):
        assert short_name(foreign) is None, "a name that is not the lab's is never taken for one"
    with pytest.raises(ClusterError, match="unknown cluster provider"):
        provider("minikube", lab_at(tmp_path))


def test_node_image_is_pinned_by_digest():
    name, _, digest = versions.KIND_NODE_IMAGE.partition("@")
    assert name.startswith("kindest/node:v1.") and digest.startswith("sha256:")
    assert len(digest.removeprefix("sha256:")) == 64
    node = name.split(":")[1]
    assert versions.minor(node) == versions.minor(versions.KIND_KUBECTL), "kubectl's minor"


def test_kind_config_uses_the_registry_recipe_and_loopback():
    config = yaml.safe_load(KIND_CONFIG)
    assert config["kind"] == "Cluster"
    assert 'config_path = "/etc/containerd/certs.d"' in config["containerdConfigPatches"][0]
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"


def test_registry_recipe_publishes_on_loopback_only():
    command = kindnet.registry_run_command(labels=docker.lab_labels(Path("/lab")))
    assert command[:3] == ["docker", "run", "--detach"]
    assert "127.0.0.1:5001:5000" in command
    assert "tell-it-with-a-meme/lab=true" in command
    assert f"tell-it-with-a-meme/lab.state={state_owner(Path('/lab'))}" in command
    assert kindnet.hosts_toml() == f'[host."http://{kindnet.REGISTRY_NAME}:5000"]\n'
    (mkdir, no_input), (copy, hosts) = kindnet.node_commands("tellit-east-control-plane")
    assert mkdir[-1] == "/etc/containerd/certs.d/localhost:5001" and no_input is None
    assert copy[-1] == "/etc/containerd/certs.d/localhost:5001/hosts.toml"
    assert hosts == kindnet.hosts_toml()
    configmap = yaml.safe_load(kindnet.registry_configmap())
    assert configmap["metadata"] == {
        "name": "local-registry-hosting",
        "namespace": "kube-public",
        "labels": {"tell-it-with-a-meme/lab": "true"},
    }
    assert yaml.safe_load(configmap["data"]["localRegistryHosting.v1"])["host"] == "localhost:5001"


def test_a_kind_cluster_is_made_with_our_binaries_and_the_pinned_image(tmp_path, monkeypatch):
    kind, kubectl = tmp_path / "kind", tmp_path / "kubectl"
    for binary in (kind, kubectl):
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    monkeypatch.setenv("TELLIT_KIND", str(kind))
    monkeypatch.setenv("TELLIT_KUBECTL", str(kubectl))
    owner = KindProvider(lab_at(tmp_path / "state"))
    assert owner.binaries() == (kind, kubectl)
    args = owner.create_args("east")
    assert args[args.index("--name") + 1] == "tellit-east"
    assert args[args.index("--image") + 1] == versions.KIND_NODE_IMAGE
    kubeconfig = args[args.index("--kubeconfig") + 1]
    assert kubeconfig == tmp_path / "state/kind/kubeconfigs/tellit-east.yaml", "in lab state"
    assert "--wait" in args, "kind waits for the node; the runner bounds the whole command"
    assert owner._cluster("east").kubectl_path == kubectl, "the cluster carries its own kubectl"


def test_a_brought_binary_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("TELLIT_KIND", str(tmp_path / "nowhere" / "kind"))
    with pytest.raises(DownloadError, match="TELLIT_KIND=") as caught:
        KindProvider(lab_at(tmp_path)).binaries()
    assert "unset it" in caught.value.fix


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", ("linux", "amd64")),
        ("Linux", "aarch64", ("linux", "arm64")),
        ("Darwin", "arm64", ("darwin", "arm64")),
        ("Darwin", "x86_64", ("darwin", "amd64")),
    ],
)
def test_download_targets(system, machine, expected):
    assert target(system, machine) == expected
    kind = kind_download(*expected)
    assert kind.url.endswith(f"/{versions.KIND}/kind-{expected[0]}-{expected[1]}")
    assert kind.checksum_url == kind.url + ".sha256sum"
    kubectl = kubectl_download(*expected)
    assert f"/{versions.KIND_KUBECTL}/bin/{expected[0]}/{expected[1]}/kubectl" in kubectl.url


def test_unsupported_platform_is_a_clear_error():
    with pytest.raises(DownloadError, match="Linux and macOS on amd64 and arm64"):
        target("Windows", "x86_64")
    with pytest.raises(DownloadError, match="not a SHA-256"):
        expected_sha256("<html>not found</html>")


@pytest.fixture
def release_server(tmp_path):
    """A real HTTP server on loopback standing in for a release page."""
    folder = tmp_path / "release"
    folder.mkdir()
    with serve_folder(folder) as base:
        yield folder, base


def test_fetch_verifies_the_checksum(release_server, tmp_path):
    folder, base = release_server
    binary = b"#!/bin/sh\necho kind\n"
    (folder / "kind").write_bytes(binary)
    (folder / "kind.sha256sum").write_text(f"{hashlib.sha256(binary).hexdigest()}  kind\n")
    (folder / "bad.sha256sum").write_text(f"{'0' * 64}  kind\n")
    good = fetch(Download("kind", f"{base}/kind", f"{base}/kind.sha256sum"), tmp_path / "bin/kind")
    assert good.read_bytes() == binary and good.stat().st_mode & 0o111
    with pytest.raises(DownloadError, match="publisher says 0000"):
        fetch(Download("kind", f"{base}/kind", f"{base}/bad.sha256sum"), tmp_path / "bin/other")
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == ["kind"], "nothing half-made"
    with pytest.raises(DownloadError, match="could not download"):
        fetch(Download("kind", f"{base}/missing", f"{base}/missing.sha256"), tmp_path / "x")
