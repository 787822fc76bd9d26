"""Build the lab's Kubernetes tools from Go modules, once per version, into the user's cache.

No container image can be pulled on our machines, so the control plane runs as local processes
(kwok's binary runtime). Every binary comes through the Go module proxy: kwok and kwokctl by
`go install`; etcd from a three-line main; kube-apiserver, kube-controller-manager,
kube-scheduler and kubectl from a wrapper module, because k8s.io/kubernetes maps its staging
modules to ./staging, which `go install` cannot follow.

`python -m demo provision` builds what is missing and prints where everything is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo.core import versions
from demo.core.errors import LabError
from demo.core.run import attempt


class ProvisionError(LabError):
    """A tool could not be built."""


KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")


@dataclass(frozen=True)
class Tool:
    """One group of binaries built together, kept in a folder named by its version."""

    name: str
    version: str
    binaries: tuple[str, ...]
    build: Callable[[Path], None]

    def folder(self, root: Path) -> Path:
        return root / f"{self.name}-{self.version}"

    def paths(self, root: Path) -> dict[str, Path]:
        return {binary: self.folder(root) / binary for binary in self.binaries}

    def present(self, root: Path) -> bool:
        return all(
            path.is_file() and os.access(path, os.X_OK) for path in self.paths(root).values()
        )


def go(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run the go command; on failure say which command failed and show its output."""
    environment = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", **(env or {})}
    result = attempt(["go", *args], cwd=cwd, env=environment, timeout=3600)
    if not result.ok:
        raise ProvisionError(
            f"`go {' '.join(args)}` failed in {cwd}:\n{result.stderr[-4000:]}",
            "check that the Go module proxy is reachable (go env GOPROXY) and that Go is"
            " recent enough (go version: 1.24 or newer), then run `make provision` again",
        )
    return result.stdout


def build_kwok(out: Path) -> None:
    for command in ("kwok", "kwokctl"):
        go(["install", f"sigs.k8s.io/kwok/cmd/{command}@{versions.KWOK}"], out, {"GOBIN": str(out)})


ETCD_MAIN = """package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def build_etcd(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="etcd-build-") as work:
        module = Path(work)
        (module / "main.go").write_text(ETCD_MAIN)
        go(["mod", "init", "tellit.local/etcd"], module)
        go(["get", f"go.etcd.io/etcd/server/v3@{versions.ETCD}"], module)
        go(["mod", "tidy"], module)
        version = versions.ETCD.removeprefix("v")
        go(
            [
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X go.etcd.io/etcd/api/v3/version.Version={version}",
                "-o",
                str(out / "etcd"),
                ".",
            ],
            module,
        )


def wrapper_go_mod(kubernetes_go_mod: str, version: str) -> str:
    """A go.mod that requires k8s.io/kubernetes and maps each staging module to its release.

    The list of staging modules is read from that version's own go.mod, because it changes
    between minor versions.
    """
    minor, patch = version.removeprefix("v").split(".")[1:3]
    staging = sorted(
        set(re.findall(r"^\s*(k8s\.io/[\w.-]+) v0\.0\.0\s*$", kubernetes_go_mod, re.MULTILINE))
    )
    go_line = re.search(r"^go (\S+)$", kubernetes_go_mod, re.MULTILINE)
    godebug = re.search(r"^godebug\s+(.+)$", kubernetes_go_mod, re.MULTILINE)
    lines = ["module tellit.local/kube", "", f"go {go_line.group(1) if go_line else '1.24'}", ""]
    if godebug:
        lines += [f"godebug {godebug.group(1)}", ""]
    lines += [f"require k8s.io/kubernetes {version}", "", "replace ("]
    lines += [f"\t{name} => {name} v0.{minor}.{patch}" for name in staging]
    lines += [")", ""]
    return "\n".join(lines)


def version_ldflags(version: str) -> str:
    major, minor = version.removeprefix("v").split(".")[:2]
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def module_info(path_at_version: str, cwd: Path = Path(".")) -> dict[str, str]:
    """`go mod download -json` of one module: where its source ("Dir") and go.mod are."""
    return json.loads(go(["mod", "download", "-json", path_at_version], cwd))


def kubernetes_builder(
    commands: tuple[str, ...], target: dict[str, str] | None = None
) -> Callable[[Path], None]:
    """A build of some of k8s.io/kubernetes's commands through the wrapper module
    (`target`: GOOS and GOARCH, to cross-build for another machine)."""

    def build(out: Path) -> None:
        version = versions.KUBERNETES
        with tempfile.TemporaryDirectory(prefix="kube-build-") as work:
            module = Path(work)
            info = module_info(f"k8s.io/kubernetes@{version}", module)
            (module / "go.mod").write_text(wrapper_go_mod(Path(info["GoMod"]).read_text(), version))
            for command in commands:
                go(["get", f"k8s.io/kubernetes/cmd/{command}@{version}"], module)
            go(
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    version_ldflags(version),
                    "-o",
                    str(out) + "/",
                    *(f"k8s.io/kubernetes/cmd/{command}" for command in commands),
                ],
                module,
                target,
            )

    return build


def go_installer(
    packages: tuple[str, ...], version: str, tags: str = "", ldflags: str = "-s -w"
) -> Callable[[Path], None]:
    """`go install` of packages of one module version (modules without replace directives)."""

    def build(out: Path) -> None:
        flags = ["-trimpath", "-ldflags", ldflags, *(["-tags", tags] if tags else [])]
        go(["install", *flags, *(f"{p}@{version}" for p in packages)], out, {"GOBIN": str(out)})

    return build


def cross_builder(module: str, version: str, binary: str, target: dict[str, str]):
    """`go build` of one command module for another OS and architecture (`go install` refuses
    to cross-build into GOBIN)."""

    def build(out: Path) -> None:
        with tempfile.TemporaryDirectory(prefix=f"{binary}-cross-") as work:
            folder = Path(work)
            go(["mod", "init", f"tellit.local/{binary}"], folder)
            go(["get", f"{module}@{version}"], folder)
            flags = ["-trimpath", "-ldflags", "-s -w"]
            go(["build", *flags, "-o", str(out / binary), module], folder, target)

    return build


def flux_go_mod(controller_go_mod: str, module: str, version: str, pins: dict[str, str]) -> str:
    """A wrapper go.mod for one Flux controller: `go install` refuses modules with replace
    directives, so the wrapper requires the controller and carries its replace lines itself.

    Replaces to a local folder (its own `./api`) are left out: the wrapper takes the api module
    at the version the controller requires. `pins` holds modules at an older version than the
    controller asks for, where the proxy here refuses the newer one.
    """
    go_line = re.search(r"^go (\S+)$", controller_go_mod, re.MULTILINE)
    body = re.sub(r"//.*", "", controller_go_mod)
    replaces = []
    for block in re.findall(r"^replace \((.*?)^\)", body, re.MULTILINE | re.DOTALL):
        replaces += [line.strip() for line in block.splitlines() if "=>" in line]
    replaces += re.findall(r"^replace ([^(\n]+=>[^\n]+)$", body, re.MULTILINE)
    lines = [f"module tellit.local/{module.rsplit('/', 1)[-1]}", ""]
    lines += [f"go {go_line.group(1) if go_line else '1.26'}", ""]
    lines += [f"require {module} {version}", ""]
    lines += [f"replace {line.strip()}" for line in replaces if "=> ./" not in line]
    lines += [f"replace {name} => {name} {pinned}" for name, pinned in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def flux_builder(controller: str, pins: dict[str, str]) -> Callable[[Path], None]:
    """A build of one Flux controller (github.com/fluxcd/<controller>) through a wrapper."""

    def build(out: Path) -> None:
        module = f"github.com/fluxcd/{controller}"
        with tempfile.TemporaryDirectory(prefix=f"{controller}-build-") as work:
            folder = Path(work)
            info = module_info(f"{module}@{versions.FLUX}", folder)
            go_mod = flux_go_mod(Path(info["GoMod"]).read_text(), module, versions.FLUX, pins)
            (folder / "go.mod").write_text(go_mod)
            go(
                ["build", "-trimpath", "-ldflags", "-s -w", "-o", str(out / controller), module],
                folder,
            )
            # The CRDs ship in the module; kept beside the binary so the lab installs the
            # definitions of exactly the version it runs.
            crds = out / "crds"
            crds.mkdir(exist_ok=True)
            for crd in sorted((Path(info["Dir"]) / "config" / "crd" / "bases").glob("*.yaml")):
                (crds / crd.name).write_bytes(crd.read_bytes())

    return build


CONTAINERD = "github.com/containerd/containerd/v2"

TOOLS = (
    Tool("kwok", versions.KWOK, ("kwok", "kwokctl"), build_kwok),
    Tool("etcd", versions.ETCD, ("etcd",), build_etcd),
    Tool("kubernetes", versions.KUBERNETES, KUBE_COMMANDS, kubernetes_builder(KUBE_COMMANDS)),
)

# What a kind node image holds, built only where `kindest/node` cannot be pulled
# (`demo.clusters.kind.nodeimage`); kind itself at a release that knows the lab's Kubernetes
# version.
NODE_COMMANDS = ("kubelet", "kubeadm", "kube-proxy")
NODE_TOOLS = (
    Tool("kube-node", versions.KUBERNETES, NODE_COMMANDS, kubernetes_builder(NODE_COMMANDS)),
    Tool(
        "containerd",
        versions.CONTAINERD,
        ("containerd", "ctr", "containerd-shim-runc-v2"),
        go_installer(
            tuple(
                f"{CONTAINERD}/cmd/{c}" for c in ("containerd", "ctr", "containerd-shim-runc-v2")
            ),
            versions.CONTAINERD,
            # The snapshotters kind's nodes do not use need C libraries: leave them out.
            tags="no_aufs no_zfs no_btrfs no_devmapper",
            ldflags=f"-s -w -X {CONTAINERD}/version.Version={versions.CONTAINERD}",
        ),
    ),
    Tool(
        "crictl",
        versions.CRICTL,
        ("crictl",),
        go_installer(("sigs.k8s.io/cri-tools/cmd/crictl",), versions.CRICTL),
    ),
    Tool(
        "coredns",
        versions.COREDNS,
        ("coredns",),
        go_installer(("github.com/coredns/coredns",), versions.COREDNS),
    ),
    Tool(
        "kind",
        versions.KIND,
        ("kind",),
        go_installer(("sigs.k8s.io/kind",), versions.KIND),
    ),
)


# Flux's source- and kustomize-controller, run beside the lab's own agent
# (`demo.delivery.flux.controllers`).
FLUX_TOOLS = (
    Tool(
        "flux-source",
        versions.FLUX,
        ("source-controller",),
        # pkg/artifact v0.18.3, which versions.FLUX asks for, is refused by the proxy here.
        flux_builder("source-controller", {"github.com/fluxcd/pkg/artifact": "v0.18.0"}),
    ),
    Tool(
        "flux-kustomize",
        versions.FLUX,
        ("kustomize-controller",),
        flux_builder("kustomize-controller", {}),
    ),
)


# kubectl alone, where an offline bundle brought it (`demo.offline.load`): the lab then needs no
# Go and no build of the control plane to drive kind clusters.
KUBECTL = Tool("kubectl", versions.KUBERNETES, ("kubectl",), kubernetes_builder(("kubectl",)))
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64"))


def cross_tools(system: str, arch: str) -> tuple[Tool, Tool]:
    """kind and kubectl for another machine, each in a folder named by version and platform."""
    target = {"GOOS": system, "GOARCH": arch}
    suffix = f"{system}-{arch}"
    return (
        Tool(
            f"kind-{suffix}",
            versions.KIND,
            ("kind",),
            cross_builder("sigs.k8s.io/kind", versions.KIND, "kind", target),
        ),
        Tool(
            f"kubectl-{suffix}",
            versions.KUBERNETES,
            ("kubectl",),
            kubernetes_builder(("kubectl",), target),
        ),
    )


def binaries(root: Path, tools: tuple[Tool, ...] = TOOLS) -> dict[str, Path]:
    """Every binary by name under the tools folder `root` (a `LabContext`'s `tools`); the
    caller checks `present()` or calls `ensure()` first."""
    return {name: path for tool in tools for name, path in tool.paths(root).items()}


def missing(root: Path, tools: tuple[Tool, ...] = TOOLS) -> list[Tool]:
    return [tool for tool in tools if not tool.present(root)]


def ensure(
    root: Path,
    log: Callable[[str], None] = print,
    tools: tuple[Tool, ...] = TOOLS,
) -> dict[str, float]:
    """Build every missing tool; a folder appears only once its build is complete."""
    root.mkdir(parents=True, exist_ok=True)
    if missing(root, tools) and shutil.which("go") is None:  # all there: no Go needed
        raise ProvisionError(
            "Go is needed to build the lab's tools",
            "install Go 1.24 or newer (go.dev/doc/install) and run `make provision` again",
        )
    timings: dict[str, float] = {}
    todo = missing(root, tools)
    for index, tool in enumerate(tools, start=1):
        if tool not in todo:
            log(f"[{index}/{len(tools)}] {tool.name} {tool.version}: cached")
            continue
        log(
            f"[{index}/{len(tools)}] {tool.name} {tool.version}:"
            f" building {', '.join(tool.binaries)}"
            " (the first time takes minutes)"
        )
        started = time.perf_counter()
        staging = Path(tempfile.mkdtemp(prefix=f".{tool.name}-", dir=root))
        try:
            tool.build(staging)
            final = tool.folder(root)
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        timings[tool.name] = time.perf_counter() - started
        log(f"[{index}/{len(tools)}] {tool.name}: built in {timings[tool.name]:.0f} s")
    return timings
