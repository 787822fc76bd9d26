"""kind where `kindest/node` cannot be pulled: the docker shim, the node image's recipe, the setup.

The pure parts run anywhere; the node image itself and real clusters carry the `kind` marker.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest
import yaml
from support.paths import ROOT

from demo.clusters.kind import nodeimage
from demo.clusters.kind import shim as kindshim
from demo.clusters.kind.nodeimage import NodeImageError
from demo.clusters.kind.provider import KIND_CONFIG, KindSetup
from demo.core import versions
from demo.delivery.agent import incluster
from demo.toolchain import pyimage, rootfs


def test_shim_rewrites_privileged_runs_and_nothing_else():
    run = ["run", "--privileged", "--name", "n", "--volume", "/lib/modules:/lib/modules:ro", "img"]
    rewritten = kindshim.rewrite(run, host_has_modules=False)
    assert "--privileged" not in rewritten
    assert "--cap-drop=SYS_RESOURCE" in rewritten and "--cap-add=ALL" in rewritten
    assert "/lib/modules:/lib/modules:ro" not in rewritten, "no empty folder made on the host"
    assert rewritten[-1] == "img" and rewritten[rewritten.index("--name") + 1] == "n"
    kept = kindshim.rewrite(run, host_has_modules=True)
    assert "/lib/modules:/lib/modules:ro" in kept and "--privileged" not in kept
    assert kindshim.rewrite(["exec", "--privileged", "n", "ls"], False) == ["exec", "n", "ls"]
    for untouched in (["ps", "-a"], ["run", "img"], ["inspect", "--privileged"], []):
        assert kindshim.rewrite(untouched, False) == untouched


def test_shim_keeps_the_node_unprivileged_where_runc_cannot_grant_everything():
    flags = " ".join(kindshim.UNPRIVILEGED)
    assert "SYS_RESOURCE" in flags and "--device=/dev/kmsg" in flags
    assert "systempaths=unconfined" in flags, "kubelet needs /proc/sys and /sys unmasked"


def test_components_cover_what_kubeadm_asks_for():
    listed = [
        f"registry.k8s.io/kube-apiserver:{versions.KUBERNETES}",
        f"registry.k8s.io/kube-proxy:{versions.KUBERNETES}",
        "registry.k8s.io/coredns/coredns:v1.14.2",
        "registry.k8s.io/pause:3.10.2",
        "registry.k8s.io/etcd:3.6.8-0",
    ]
    made = {image: nodeimage.component_for(image) for image in listed}
    assert made[listed[2]].entrypoint == ("/usr/local/bin/coredns",)
    assert made[listed[3]].binary == "pause"
    with pytest.raises(NodeImageError, match="kindnetd") as caught:
        nodeimage.component_for("docker.io/kindest/kindnetd:v1")
    assert "component_for" in caught.value.fix


def test_containerd_config_gets_kubeadms_pause_and_restricted_oom_scores():
    kind_config = (
        '[plugins."io.containerd.grpc.v1.cri"]\n'
        '  sandbox_image = "registry.k8s.io/pause:3.10"\n'
        "  restrict_oom_score_adj = false\n"
    )
    config = nodeimage.containerd_config(kind_config, "registry.k8s.io/pause:3.10.2")
    assert 'sandbox_image = "registry.k8s.io/pause:3.10.2"' in config
    assert "restrict_oom_score_adj = true" in config
    with pytest.raises(NodeImageError, match="changed shape"):
        nodeimage.containerd_config("version = 3\n", "registry.k8s.io/pause:3.10.2")


def test_apt_mirror_is_the_machines_own(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    )
    assert rootfs.apt_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text(
        "deb [arch=amd64] http://other.example/debian/ bookworm main\n"
    )
    assert rootfs.apt_mirror(tmp_path) == "http://other.example/debian/"
    assert rootfs.apt_mirror(tmp_path / "none") == rootfs.FALLBACK_MIRROR


def test_entry_script_shields_every_host_wide_sysctl_kubelet_writes():
    script = nodeimage.ENTRY.replace("@SYSCTLS@", nodeimage.sysctl_lines())
    for name, value in nodeimage.KUBELET_SYSCTLS.items():
        assert f"{name} {value}" in script
    assert 'mount --bind "$file" "/proc/sys/$name"' in script
    assert script.rstrip().endswith('exec /usr/local/bin/entrypoint "$@"')
    assert "systemd-sysctl.service" in nodeimage.NODE_DOCKERFILE, "no host sysctl from systemd"


def test_recipe_key_changes_with_any_input(tmp_path, monkeypatch):
    (tmp_path / "kind").mkdir()
    (tmp_path / "kind" / "README.txt").write_text("one")
    first = nodeimage.recipe_key(tmp_path)
    assert first == nodeimage.recipe_key(tmp_path), "the same inputs give the same image"
    (tmp_path / "kind" / "README.txt").write_text("two")
    assert nodeimage.recipe_key(tmp_path) != first
    second = nodeimage.recipe_key(tmp_path)
    monkeypatch.setattr(versions, "CONTAINERD", "v9.9.9")
    assert nodeimage.recipe_key(tmp_path) != second
    assert nodeimage.image_name(first).startswith(f"tellit-kind-node:{versions.KUBERNETES}-")


def test_local_setup_patches_kubelet_and_names_its_network(tmp_path):
    local = KindSetup("local", "kind", "kubectl", "img", "tellit-kind", shim=str(tmp_path))
    config = yaml.safe_load(local.config())
    assert "failCgroupV1: false" in config["kubeadmConfigPatches"][0]
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    env = local.env()
    assert env["KIND_EXPERIMENTAL_DOCKER_NETWORK"] == "tellit-kind"
    assert env["PATH"].split(":")[0] == str(tmp_path) and env["TELLIT_REAL_DOCKER"]
    published = KindSetup("published", "kind", "kubectl", versions.KIND_NODE_IMAGE, "kind")
    assert published.config() == KIND_CONFIG
    assert "KIND_EXPERIMENTAL_DOCKER_NETWORK" not in published.env()
    assert json.loads(json.dumps(published.__dict__))["mode"] == "published"


def test_in_cluster_agent_keeps_to_restricted_pods_and_its_own_account():
    manifest = json.loads(
        incluster.agent_manifest("tellit-lab-python:abc", "east", "shop", "http://m/c.git", 5, "s3")
    )
    secret, deployment = manifest["items"]
    assert secret["kind"] == "Secret" and secret["stringData"] == {"secret": "s3"}
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "agent", "the namespaced account, never an admin"
    assert pod["securityContext"]["runAsNonRoot"] and container["imagePullPolicy"] == "Never"
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"]
    assert "--in-cluster" in container["args"] and "--kubeconfig" not in container["args"]
    assert "s3" not in json.dumps(container), "the secret comes from the Secret, not the spec"
    assert deployment["spec"]["strategy"]["type"] == "Recreate", "never two agents at once"


def test_git_mirror_is_read_only_unpublished_and_has_no_push_token(tmp_path):
    command = incluster.mirror_run_command("img", tmp_path, "tellit-kind")
    assert "--publish" not in command and "-p" not in command
    assert f"{tmp_path}:/srv/repos:ro" in command and "--read-only" in command
    assert command[command.index("--network") + 1] == "tellit-kind"
    served = command[command.index("img") + 1 :]
    assert "--clone-only" in served and "--tokens" not in served, "no account, no push"
    assert incluster.mirror_url("config") == "http://tellit-git-mirror:8080/config.git"
    assert incluster.port_forward_args(1, 2)[-2:] == ["1:9100", "2:9101"]
    assert "127.0.0.1" in incluster.port_forward_args(1, 2)


def test_python_image_carries_exactly_what_the_agent_imports():
    names = {d.metadata["Name"].lower() for d in pyimage.closure()}
    assert {"lightkube", "prometheus_client", "requests", "pyyaml", "psutil"} <= names
    assert not names & {"mkdocs", "pillow", "matplotlib", "pytest"}, "no site or test libraries"
    assert pyimage.requirement_name('pytest; extra == "test"') is None
    assert pyimage.requirement_name("anyio>=4; python_version >= '3.9'") == "anyio"


def test_readers_python_image_pins_the_same_libraries_from_pypi():
    distributions = pyimage.closure()
    pins = pyimage.pinned(distributions).splitlines()
    assert len(pins) == len(distributions) and all("==" in line for line in pins)
    folder = ROOT / "requirements"
    lock = "".join((folder / name).read_text() for name in ("site.lock", "lab.lock")).lower()
    for line in pins:
        name = line.split("==")[0].lower().replace("_", "-")
        assert line.lower().replace("_", "-") in lock.replace("_", "-"), (
            f"{name} as the lock files pin it"
        )
    assert "--no-deps" in pyimage.PUBLISHED_DOCKERFILE, "exactly the pinned set, nothing resolved"
    assert pyimage.PUBLISHED_DOCKERFILE.startswith(f"FROM {pyimage.PUBLISHED_BASE}")


def test_preloaded_images_are_an_oci_layout_with_gzipped_layers(tmp_path):
    layer = b"a layer's tar" * 1000
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:x"]}}).encode()
    saved = tmp_path / "saved.tar"
    with tarfile.open(saved, "w") as tar:
        for name, data in (
            (
                "manifest.json",
                json.dumps(
                    [
                        {
                            "Config": "c.json",
                            "RepoTags": ["r.example/a:v1"],
                            "Layers": ["l/layer.tar"],
                        }
                    ]
                ).encode(),
            ),
            ("c.json", config),
            ("l/layer.tar", layer),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = tmp_path / "oci.tar"
    nodeimage.gzipped_layout(saved, out)
    nodeimage.gzipped_layout(saved, tmp_path / "again.tar")
    assert out.read_bytes() == (tmp_path / "again.tar").read_bytes(), "the same bytes each time"
    with tarfile.open(out) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    index = json.loads(files["index.json"])
    [entry] = index["manifests"]
    assert entry["annotations"]["io.containerd.image.name"] == "r.example/a:v1"
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1], "content-addressed"
    manifest = json.loads(files["blobs/sha256/" + entry["digest"].removeprefix("sha256:")])
    [compressed] = manifest["layers"]
    assert compressed["mediaType"].endswith("tar+gzip")
    data = files["blobs/sha256/" + compressed["digest"].removeprefix("sha256:")]
    assert gzip.decompress(data) == layer and len(data) < len(layer) / 10
    assert files["blobs/sha256/" + manifest["config"]["digest"].removeprefix("sha256:")] == config
