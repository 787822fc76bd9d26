"""The kind node image, built here, for machines that cannot pull `kindest/node`.

kind's own node-image build pulls etcd, CoreDNS, pause and kindnetd images, and its base image
comes from a registry: neither works where no registry is reachable. This builds the same thing
from what can be had: a Debian root filesystem by `debootstrap` from the machine's apt mirror,
kind's node files from the kind module, and every binary from Go modules
(`demo.toolchain.provision`), pause compiled from Kubernetes's own `pause.c`. The images kubeadm
needs are made `FROM scratch` around those static binaries and preloaded into the node's
containerd, so nothing is pulled when a cluster starts. kube-proxy gets only iptables and nft with
their libraries, not the whole root filesystem.

Cached twice: Docker keeps the image under a tag that names its recipe, and a `docker save`
archive in the tools cache brings it back in seconds on a warm machine (after `docker system
prune`, or in a clean CI job that shares the cache). On a reader's laptop the lab uses the
published `kindest/node` pinned by digest instead (`versions.KIND_NODE_IMAGE`).

Differences from kindest/node, on purpose: no kindnetd (its source is not on the Go module
proxy), so each node has a static bridge CNI config and a cluster has one node, which is all the
lab needs; no local-path-provisioner (no PVCs); etcd is the lab's pinned release, tagged with
the version kubeadm asks for.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from demo.clusters.kind.shim import UNPRIVILEGED
from demo.core import docker, versions
from demo.core.errors import LabError
from demo.core.paths import PACKAGE
from demo.core.run import CommandError, run
from demo.toolchain import provision, rootfs
from demo.toolchain.rootfs import apt_mirror

REPOSITORY = "tellit-kind-node"
# Raised when the way the image is assembled changes in code rather than in the data below.
RECIPE_FORMAT = 2  # 2: preloaded images with gzip-compressed layers
DEBIAN_SUITE = rootfs.SUITE
# kind's node packages (images/base/Dockerfile), less NFS, iSCSI and e2fsprogs (no volumes
# here), plus what kind's Dockerfile builds itself: runc and the CNI plugins, from Debian.
PACKAGES = (
    "systemd",
    "conntrack",
    "iptables",
    "nftables",
    "iproute2",
    "ethtool",
    "util-linux",
    "mount",
    "kmod",
    "libseccomp2",
    "pigz",
    "fuse-overlayfs",
    "bash",
    "ca-certificates",
    "curl",
    "jq",  # kind's mount-product-files.sh hook: without it every static pod fails
    "procps",
    "runc",
    "containernetworking-plugins",
)
# Host-wide sysctls kubelet sets when they differ from what it wants; the entry script shows it
# these values from files bind-mounted over them, so the shared host keeps its own.
KUBELET_SYSCTLS = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}

# The recipe's texts are files beside this module (recipe/), package data: shell and
# Dockerfiles read as what they are. Their content is part of the recipe key.
RECIPE = resources.files("demo.clusters.kind") / "recipe"


def _recipe(name: str) -> str:
    return (RECIPE / name).read_text()


# The node's first process, before kind's entrypoint (see recipe/entry.sh for why).
ENTRY = _recipe("entry.sh")
# kind applies this manifest with `kubectl create` at cluster creation. The node's CNI is
# static (BRIDGE_CNI), so there is nothing to install: a ConfigMap says so to whoever looks.
NO_CNI = _recipe("no-cni.yaml")
BRIDGE_CNI = json.loads(_recipe("bridge-cni.json"))
NODE_DOCKERFILE = _recipe("node.Dockerfile")  # .format(rootfs=...)
FINAL_DOCKERFILE = _recipe("final.Dockerfile")  # .format(assembled=..., key=...)
# The kube-proxy image's files: its iptables (nft and legacy) and nft with their libraries,
# found with ldd inside the root filesystem, and the iptables commands as links.
PROXY_FILES_SCRIPT = _recipe("proxy-files.sh")
PROXY_DOCKERFILE = _recipe("proxy.Dockerfile")  # .format(rootfs=..., key=...)
STATIC_DOCKERFILE = _recipe("static.Dockerfile")  # .format(binary=..., entrypoint=...)


class NodeImageError(LabError):
    """The node image could not be built or loaded."""


@dataclass(frozen=True)
class Component:
    """One image kubeadm asks for, made around one binary."""

    image: str  # the full name kubeadm asks for, e.g. registry.k8s.io/kube-apiserver:vX.Y.Z
    binary: str  # the program the image runs
    entrypoint: tuple[str, ...] = ()


def component_for(image: str) -> Component:
    """What to build for an image from `kubeadm config images list`."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0]
    if name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
        return Component(image, name)  # kubeadm's manifests name the command
    if name == "etcd":
        return Component(image, "etcd")
    if name == "coredns":
        return Component(image, "coredns", ("/usr/local/bin/coredns",))
    if name == "pause":
        return Component(image, "pause", ("/usr/local/bin/pause",))
    raise NodeImageError(
        f"kubeadm {versions.KUBERNETES} asks for image {image}, which the node image cannot make",
        "add a builder for it in demo/clusters/kind/nodeimage.py (component_for)",
    )


def kind_files() -> Path:
    """kind's node files, from the kind module of the version the lab runs here."""
    info = provision.module_info(f"sigs.k8s.io/kind@{versions.KIND}")
    return Path(info["Dir"]) / "images" / "base" / "files"


def pause_source() -> Path:
    info = provision.module_info(f"k8s.io/kubernetes@{versions.KUBERNETES}")
    return Path(info["Dir"]) / "build" / "pause" / "linux" / "pause.c"


def recipe_key(files: Path) -> str:
    """A digest of everything the image is made from: a change to any of it makes a new image.

    The recipe's data, not this module's text: editing a docstring rebuilds nothing.
    """
    digest = hashlib.sha256()
    recipe = {
        "format": RECIPE_FORMAT,
        "versions": {
            name: getattr(versions, name)
            for name in ("KUBERNETES", "ETCD", "KIND", "CONTAINERD", "CRICTL", "COREDNS")
        },
        "debian": [DEBIAN_SUITE, *PACKAGES],
        "sysctls": KUBELET_SYSCTLS,
        "texts": [
            ENTRY,
            NO_CNI,
            NODE_DOCKERFILE,
            FINAL_DOCKERFILE,
            PROXY_FILES_SCRIPT,
            PROXY_DOCKERFILE,
            STATIC_DOCKERFILE,
        ],
        "cni": BRIDGE_CNI,
        "unprivileged": UNPRIVILEGED,
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(files)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def image_name(key: str) -> str:
    return f"{REPOSITORY}:{versions.KUBERNETES}-{key}"


def archive_path(key: str, tools: Path) -> Path:
    """Where the built image is kept as an archive, in the tools folder `tools`."""
    return tools / f"node-image-{versions.KUBERNETES}-{key}" / "node-image.tar"


def sysctl_lines() -> str:
    return "\n".join(f"{name} {value}" for name, value in KUBELET_SYSCTLS.items())


def containerd_config(kind_config: str, pause_image: str) -> str:
    """kind's containerd config with the pause image kubeadm expects and no negative OOM scores
    (a container here may not lower its OOM score: `restrict_oom_score_adj`)."""
    config, count = re.subn(
        r'sandbox_image = "[^"]*"', f'sandbox_image = "{pause_image}"', kind_config
    )
    config, count2 = re.subn(
        r"restrict_oom_score_adj = false", "restrict_oom_score_adj = true", config
    )
    if count != 1 or count2 != 1:
        raise NodeImageError(
            f"kind {versions.KIND}'s containerd config has changed shape",
            "update containerd_config in demo/clusters/kind/nodeimage.py for the new config",
        )
    return config


Log = Callable[[str], None]


class Builder:
    """The build's steps, each logged with its number and time; temporary images removed."""

    STEPS = 6

    def __init__(self, key: str, files: Path, work: Path, tools: Path, log: Log) -> None:
        self.key, self.files, self.work, self.log = key, files, work, log
        self.tools_root = tools
        self.step = 0
        self.temporary: list[str] = []

    def announce(self, what: str) -> float:
        self.step += 1
        self.log(f"node image [{self.step}/{self.STEPS}] {what}")
        return time.perf_counter()

    def done(self, started: float) -> None:
        self.log(
            f"node image [{self.step}/{self.STEPS}] done in {time.perf_counter() - started:.0f} s"
        )

    def docker_build(self, context: Path, tag: str, timeout: float = 900) -> str:
        docker.build(tag, context, timeout=timeout)
        self.temporary.append(tag)
        return tag

    def tools(self) -> dict[str, Path]:
        started = self.announce("tools from Go modules (minutes the first time)")
        all_tools = provision.TOOLS + provision.NODE_TOOLS
        provision.ensure(self.tools_root, log=self.log, tools=all_tools)
        self.done(started)
        return provision.binaries(self.tools_root, tools=all_tools)

    def rootfs(self) -> str:
        started = self.announce(
            f"Debian {DEBIAN_SUITE} root filesystem from {apt_mirror()} (about a minute)"
        )
        tag = rootfs.debian_image(f"{REPOSITORY}-rootfs:{self.key}", PACKAGES)
        self.temporary.append(tag)
        self.done(started)
        return tag

    def pause(self, image: str) -> Path:
        """pause at the version kubeadm asks for, from Kubernetes's own source."""
        version = image.rsplit(":", 1)[1]
        out = self.work / "pause"
        run(
            [
                "gcc",
                "-Os",
                "-Wall",
                "-Werror",
                "-static",
                f"-DVERSION=v{version}",
                "-o",
                out,
                pause_source(),
            ],
            timeout=300,
        )
        run(["strip", out])
        return out

    def components(self, binaries: dict[str, Path], rootfs: str) -> Path:
        """Every image kubeadm asks for, saved into one archive for the node's containerd."""
        listed = run(
            [
                binaries["kubeadm"],
                "config",
                "images",
                "list",
                "--kubernetes-version",
                versions.KUBERNETES,
            ],
            timeout=60,
        ).split()
        started = self.announce(f"{len(listed)} images kubeadm asks for")
        for image in listed:
            component = component_for(image)
            if component.binary == "pause":
                binaries["pause"] = self.pause(image)
            context = self.work / "images" / component.binary
            context.mkdir(parents=True)
            shutil.copy2(binaries[component.binary], context / component.binary)
            if component.binary == "kube-proxy":
                (context / "collect.sh").write_text(PROXY_FILES_SCRIPT)
                (context / "Dockerfile").write_text(
                    PROXY_DOCKERFILE.format(rootfs=rootfs, key=self.key)
                )
            else:
                entry = (
                    f"ENTRYPOINT {json.dumps(list(component.entrypoint))}"
                    if component.entrypoint
                    else ""
                )
                (context / "Dockerfile").write_text(
                    STATIC_DOCKERFILE.format(binary=component.binary, entrypoint=entry)
                )
            self.docker_build(context, component.image)
            self.log(f"  {image}")
        saved = self.work / "saved.tar"
        docker.save(saved, *listed, timeout=600)
        archive = self.work / "images.tar"
        gzipped_layout(saved, archive)
        saved.unlink()
        self.done(started)
        self.listed = listed
        return archive

    def node(self, binaries: dict[str, Path], rootfs: str) -> str:
        started = self.announce("node filesystem: kind's files, binaries, containerd, CNI")
        context = self.work / "node"
        shutil.copytree(self.files, context / "files")
        files = context / "files"
        for path in [files, *files.rglob("*")]:  # the module cache's files are read-only
            path.chmod(0o755 if path.is_dir() else 0o644)
        pause_image = next(i for i in self.listed if component_for(i).binary == "pause")
        config = files / "etc" / "containerd" / "config.toml"
        config.write_text(containerd_config(config.read_text(), pause_image))
        (files / "kind" / "version").write_text(versions.KUBERNETES + "\n")
        (files / "kind" / "manifests").mkdir(parents=True)
        (files / "kind" / "manifests" / "default-cni.yaml").write_text(NO_CNI)
        (files / "etc" / "cni" / "net.d").mkdir(parents=True)
        (files / "etc" / "cni" / "net.d" / "10-tellit-bridge.conflist").write_text(
            json.dumps(BRIDGE_CNI, indent=2) + "\n"
        )
        local = files / "usr" / "local" / "bin"
        (local / "tellit-entry").write_text(ENTRY.replace("@SYSCTLS@", sysctl_lines()))
        (context / "bin").mkdir()
        for name in ("kubelet", "kubeadm", "kubectl"):
            shutil.copy2(binaries[name], context / "bin" / name)
        (context / "local").mkdir()
        for name in ("containerd", "ctr", "containerd-shim-runc-v2", "crictl"):
            shutil.copy2(binaries[name], context / "local" / name)
        (context / "Dockerfile").write_text(NODE_DOCKERFILE.format(rootfs=rootfs))
        tag = self.docker_build(context, f"{REPOSITORY}-stage:{self.key}")
        self.done(started)
        return tag

    def preload(self, stage: str, archive: Path) -> str:
        """Import the images into the node's containerd: run it once, import, commit.

        `--no-unpack`: unpacking on the container's own overlay root fails; kind mounts /var as
        a volume, so pods unpack there later.
        """
        started = self.announce(f"preloading {len(self.listed)} images into containerd")
        name = f"tellit-nodebuild-{self.key}"
        script = (
            "containerd >/tmp/containerd.log 2>&1 & pid=$!; "
            "for i in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.2; done; "
            "ctr -n k8s.io images import --no-unpack /images.tar >/dev/null "
            "&& ctr -n k8s.io images ls -q; status=$?; kill $pid; wait $pid; "
            "rm -f /tmp/containerd.log; exit $status"
        )
        docker.remove_containers(name)
        try:
            options = ["--name", name, *UNPRIVILEGED, "--volume", f"{archive}:/images.tar:ro"]
            command = docker.run_argv(
                stage, "-c", script, options=[*options, "--entrypoint", "/bin/sh"]
            )
            output = run(command, timeout=900)
            imported = set(output.split())
            absent = [image for image in self.listed if image not in imported]
            if absent:
                raise NodeImageError(
                    f"containerd did not import {', '.join(absent)}",
                    "run `make node-image` again; if it repeats, report it with this output",
                )
            assembled = f"{REPOSITORY}-assembled:{self.key}"
            docker.docker("commit", name, assembled, timeout=900)
            self.temporary.append(assembled)
        finally:
            docker.remove_containers(name)
        self.done(started)
        return assembled

    def final(self, assembled: str) -> str:
        started = self.announce("final image and its archive in the tools cache")
        context = self.work / "final"
        context.mkdir()
        (context / "Dockerfile").write_text(
            FINAL_DOCKERFILE.format(assembled=assembled, key=self.key)
        )
        image = image_name(self.key)
        docker.build(image, context, timeout=600)
        save(image, archive_path(self.key, self.tools_root))
        self.done(started)
        return image

    def cleanup(self) -> None:
        for tag in reversed(self.temporary):
            docker.remove_images(tag, force=False)  # gone already: nothing to do
        # The untagged image of kube-proxy's first build stage.
        label = f"label=tell-it-with-a-meme/node-build={self.key}"
        docker.try_docker("image", "prune", "--force", "--filter", label)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def gzipped_layout(saved: Path, out: Path) -> None:
    """`docker save`'s archive as an OCI image layout with gzip-compressed layers.

    docker save writes layers uncompressed, and the node's containerd keeps imported blobs
    as they come until a pod unpacks them: compressed, the preloaded images take a third of
    the room in the node image. Written by hand because no tool on the machine converts
    (skopeo is not installed); layers are gzipped with a fixed time, so the same images give
    the same bytes.
    """
    blobs: dict[str, bytes] = {}

    def blob(data: bytes) -> dict[str, object]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    index = []
    with tarfile.open(saved) as tar:
        for image in json.load(tar.extractfile("manifest.json")):
            config = blob(tar.extractfile(image["Config"]).read())
            layers = []
            for name in image["Layers"]:
                raw = tar.extractfile(name).read()
                layers.append({"mediaType": OCI_LAYER_GZIP, **blob(gzip.compress(raw, 6, mtime=0))})
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, **config},
                "layers": layers,
            }
            described = blob(json.dumps(manifest, separators=(",", ":")).encode())
            for tag in image["RepoTags"]:
                index.append(
                    {
                        "mediaType": OCI_MANIFEST,
                        **described,
                        "annotations": {
                            "io.containerd.image.name": tag,
                            "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1],
                        },
                    }
                )

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(out, "w") as tar:
        add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": index}).encode())
        for digest, data in blobs.items():
            add(tar, f"blobs/sha256/{digest.removeprefix('sha256:')}", data)


def save(image: str, archive: Path) -> None:
    """`docker save` to a temporary file, then a rename: the archive is whole or absent."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f".{archive.name}.partial")
    docker.save(partial, image)
    partial.replace(archive)


def built_images() -> list[str]:
    """Node images built here for the lab's Kubernetes version, newest first."""
    tags = docker.image_tags(REPOSITORY)
    return [f"{REPOSITORY}:{t}" for t in tags if t.startswith(versions.KUBERNETES + "-")]


def can_pull_published() -> bool:
    """Whether the published kindest/node is here or can be pulled (a reader's laptop)."""
    if docker.image_exists(versions.KIND_NODE_IMAGE):
        return True
    try:
        docker.pull(versions.KIND_NODE_IMAGE, timeout=900)
        return True
    except CommandError:
        return False


def host_packages(log: Log = print) -> None:
    """debootstrap and a C compiler, through the lab's host script (root or sudo)."""
    script = PACKAGE / "host.sh"
    log("node image: checking debootstrap and gcc")
    run(["sh", script, "--node-image"], timeout=1800)


def size_mib(image: str) -> float:
    return int(docker.docker("image", "inspect", "--format", "{{.Size}}", image)) / 2**20


def ensure(tools: Path, log: Log = print) -> str:
    """The node image's name: present, loaded from its archive in the tools folder `tools`,
    or built (minutes)."""
    try:
        files = kind_files()
    except (LabError, OSError) as error:
        # No Go, or no module proxy (a laptop loaded from an offline bundle): the recipe
        # cannot be checked, so the node image that is here is the one to use.
        built = built_images()
        if not built:
            raise
        log(f"node image {built[0]}: present (its recipe cannot be checked here: {error})")
        return built[0]
    key = recipe_key(files)
    image = image_name(key)
    if docker.image_exists(image):
        log(f"node image {image}: present")
        return image
    archive = archive_path(key, tools)
    if archive.is_file():
        started = time.perf_counter()
        docker.load(archive)
        seconds = time.perf_counter() - started
        log(f"node image {image}: loaded from the tools cache in {seconds:.0f} s")
        return image
    started = time.perf_counter()
    log(f"node image {image}: building (about 10 minutes on a cold machine, 2 on a warm one)")
    with tempfile.TemporaryDirectory(prefix="tellit-node-image-") as work:
        builder = Builder(key, files, Path(work), tools, log)
        try:
            binaries = builder.tools()
            rootfs = builder.rootfs()
            builder.components(binaries, rootfs)
            stage = builder.node(binaries, rootfs)
            assembled = builder.preload(stage, Path(work) / "images.tar")
            image = builder.final(assembled)
        finally:
            builder.cleanup()
    seconds = time.perf_counter() - started
    log(f"node image {image}: built in {seconds:.0f} s, {size_mib(image):.0f} MiB")
    remove_superseded(image, archive)
    return image


def remove_superseded(image: str, archive: Path) -> None:
    """Node images and archives of earlier recipes: a gigabyte each, never used again."""
    for old in built_images():
        if old != image:
            docker.remove_images(old, force=False)  # in use: kept
    for folder in archive.parent.parent.glob("node-image-*"):
        if folder != archive.parent:
            shutil.rmtree(folder, ignore_errors=True)
