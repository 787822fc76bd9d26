"""What the lab's tests share: each run gets its own lab state, and parts it needs are checked."""

from __future__ import annotations

import shutil
import subprocess

from conftest import need


def docker_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    return result.returncode == 0


def need_docker() -> None:
    need(
        docker_ready(),
        "a running Docker engine (apt-get install docker.io; .ci/run starts dockerd)",
    )


def need_registry() -> None:
    need(
        shutil.which("docker-registry") is not None,
        "Debian's docker-registry (apt-get install docker-registry)",
    )


def need_git() -> None:
    need(shutil.which("git") is not None, "git")
