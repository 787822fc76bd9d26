"""Images without pulls, and the registry: build, push and resolve a tag to its digest."""

from __future__ import annotations

import socket
import subprocess

import pytest
from support.helpers import need
from support.lab import lab_at, need_docker, need_registry

from demo.core import docker
from demo.core.errors import LabError
from demo.core.naming import state_owner
from demo.core.processes import listening
from demo.lab.teardown import docker_leftovers, down
from demo.services.registry import LocalRegistry, RegistryError
from demo.toolchain.images import base_image, build_app, busybox_rootfs, ensure_base_image

pytestmark = pytest.mark.provisioned


def test_base_image_is_the_tag_the_dockerfile_names():
    need_docker()
    image = ensure_base_image(log=lambda message: None)
    assert image == base_image() == "busybox:1.35.0"
    shell = subprocess.run(
        ["docker", "run", "--rm", image, "sh", "-c", "echo made here"],
        capture_output=True,
        text=True,
    )
    assert shell.stdout.strip() == "made here", shell.stderr


def test_rootfs_is_reproducible():
    from demo.toolchain.images import BUSYBOX_CANDIDATES

    busybox = next((p for p in BUSYBOX_CANDIDATES if p.is_file()), None)
    need(busybox is not None, "busybox (apt-get install busybox-static)")
    assert busybox_rootfs(busybox) == busybox_rootfs(busybox)


def test_build_push_and_resolve_digest(lab_state):
    need_docker()
    need_registry()
    ensure_base_image(log=lambda message: None)
    build_app("tellit-test-app:v1", "v1", labels=docker.lab_labels(lab_state))
    server = LocalRegistry(lab_state / "registry")
    registry = server.start()
    assert registry.address.startswith("127.0.0.1:")
    digest = registry.push("tellit-test-app:v1", "lab/app", "v1")
    assert digest.startswith("sha256:") and len(digest) == 71
    repo_digests = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", "tellit-test-app:v1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{registry.address}/lab/app@{digest}" in repo_digests
    assert registry.resolve("lab/app", "v1") == digest
    assert registry.tags("lab/app") == ["v1"]
    build_app("tellit-test-app:v2", "v2", labels=docker.lab_labels(lab_state))
    second = registry.push("tellit-test-app:v2", "lab/app", "v1")  # a tag moves...
    assert second != digest and registry.resolve("lab/app", "v1") == second  # ...digests do not
    with pytest.raises(RegistryError, match="not in the registry"):
        registry.resolve("lab/app", "nope")
    assert [(p.repository, p.tag, p.digest) for p in registry.pushes()] == [
        ("lab/app", "v1", digest),
        ("lab/app", "v1", second),
    ], "every push is recorded with its digest"

    # A restart keeps the address, so stored references (host:port/repo@digest) still resolve.
    port = int(registry.address.split(":")[1])
    server.stop()
    assert not listening(port), "stop returns once the port is closed"
    with pytest.raises(RegistryError, match="does not answer") as caught:
        registry.resolve("lab/app", "v1")
    assert "demo up" in caught.value.fix and caught.value.__cause__ is not None
    again = LocalRegistry(lab_state / "registry").start()
    assert again.address == registry.address
    assert again.resolve("lab/app", "v1") == second and len(again.pushes()) == 2
    server.stop()
    with socket.socket() as squatter:  # another program took the port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(LabError, match="taken by another program") as caught:
            LocalRegistry(lab_state / "registry").start()
        assert "demo down" in caught.value.fix
    subprocess.run(
        [
            "docker",
            "rmi",
            "tellit-test-app:v1",
            "tellit-test-app:v2",
            f"{registry.address}/lab/app:v1",
        ],
        capture_output=True,
    )


def test_down_removes_its_own_lab_s_docker_objects_and_no_other_s(tmp_path):
    """A test's teardown beside a reader's lab that is up must not take the reader's lab down:
    each lab state labels what it makes, and `down` sweeps that label only."""
    need_docker()
    ensure_base_image(log=lambda message: None)
    mine, yours = tmp_path / "mine", tmp_path / "yours"
    made = {}
    for state in (mine, yours):
        name = f"tellit-test-{state_owner(state)}"
        docker.docker("network", "create", *docker.lab_labels(state), name)
        made[state] = docker.docker("network", "inspect", "--format", "{{.Id}}", name).strip()
    try:
        assert down(lab_at(mine)) == []
        assert not docker.network_exists(f"tellit-test-{state_owner(mine)}")
        assert docker.network_exists(f"tellit-test-{state_owner(yours)}"), "not mine: kept"
        assert f"network {made[yours][:12]}" in docker_leftovers(yours)
    finally:
        assert down(lab_at(yours)) == []
    assert not docker.network_exists(f"tellit-test-{state_owner(yours)}")
