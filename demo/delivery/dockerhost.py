"""A deploy target that is not Kubernetes: a plain Docker host running the app as a container.

Push reaches it the way a pipeline reaches a VM: with the host's Docker engine in hand (which
is root on that host, a credential worth saying out loud), it pulls the image by digest from
the registry, starts it beside the old one, checks the new one answers with its version, and
only then removes the old one. The container and its network carry the lab's label and its
state's, so `down` removes them and a second lab on the machine (a reader's beside a test's)
neither sees nor removes them; the app is published on 127.0.0.1 only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from demo.core import docker
from demo.core.errors import LabError
from demo.core.naming import LABEL, PREFIX, state_owner
from demo.core.processes import free_port
from demo.core.run import run
from demo.core.waits import until

NETWORK = f"{PREFIX}hosts"  # each lab state's own: this, a dash and its owner label's start
APP_PORT = 8080  # where the app's httpd listens inside its container


class DockerHostError(LabError):
    """The app could not be started or did not answer on the Docker host."""


@dataclass(frozen=True)
class DockerHost:
    """One host as the pipeline reaches it: its name, and the engine it talks to (this
    machine's, standing in for a VM's)."""

    name: str
    root: Path  # the lab state that deploys here: its labels, its network, its containers

    @property
    def label(self) -> str:
        return f"host {self.name}"

    @property
    def labels(self) -> tuple[str, ...]:
        return docker.lab_labels(self.root)

    @property
    def network(self) -> str:
        return f"{NETWORK}-{state_owner(self.root)[:12]}"

    def _containers(self) -> list[str]:
        return docker.containers(f"label={LABEL}.host={self.name}", docker.state_filter(self.root))

    def port(self) -> int | None:
        """The loopback port the running app answers on, or None when none runs."""
        for container in self._containers():
            mapped = docker.docker("port", container, f"{APP_PORT}/tcp").strip()
            if mapped:
                return int(mapped.splitlines()[0].rsplit(":", 1)[1])
        return None

    def running_image(self) -> str:
        """The image reference the app's container was started from ("" when none)."""
        for container in self._containers():
            return docker.inspect("{{.Config.Image}}", container)
        return ""

    def deploy(self, image: str, version: str, timeout: float = 60) -> float:
        """Run `image` (pulled by digest) in place of what runs; seconds until it answered
        with `version`. The old container stays until the new one has answered."""
        started = time.perf_counter()
        old = self._containers()
        docker.ensure_network(self.network, self.labels)
        docker.pull(image)
        port = free_port()
        name = f"{PREFIX}host-{self.name}-{int(time.time() * 1000)}"
        options = [
            "--detach", "--name", name,
            *self.labels, "--label", f"{LABEL}.host={self.name}",
            "--network", self.network, "--publish", f"127.0.0.1:{port}:{APP_PORT}",
            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        ]  # fmt: skip
        run(docker.run_argv(image, options=options), timeout=60)
        try:
            wait_answers(port, version, timeout)
        except DockerHostError:
            docker.remove_containers(name)  # the old one keeps serving
            raise
        docker.remove_containers(*old)
        return time.perf_counter() - started

    def remove(self) -> None:
        docker.remove_containers(*self._containers())


def answers(port: int, version: str) -> str:
    """ "" when the app on `port` answers now with `version` in its page; else what it did."""
    try:
        response = httpx2.get(f"http://127.0.0.1:{port}/", timeout=2)
    except httpx2.HTTPError as error:
        return type(error).__name__
    if response.status_code == 200 and version in response.text:
        return ""
    return f"HTTP {response.status_code}"


def wait_answers(port: int, version: str, timeout: float) -> None:
    """Until the app on `port` answers with `version` in its page."""
    last = ["no answer"]

    def answered() -> bool:
        last[0] = answers(port, version)
        return not last[0]

    until(
        answered,
        timeout=timeout,
        every=0.1,
        message=lambda: (
            f"the app on the Docker host did not answer with version {version}"
            f" in {timeout:g} s (last: {last[0]})"
        ),
        fix="look at its log: `docker logs` of the newest tellit-host- container",
        error=DockerHostError,
    )
