"""demo.core.docker's command lines, which every other module asks for instead of spelling."""

from __future__ import annotations

from pathlib import Path

from demo.core import docker
from demo.core.naming import state_owner


def test_labels_name_the_lab_and_the_state_that_made_an_object():
    labels = docker.lab_labels(Path("/tmp/one/lab"))
    assert labels == (
        "--label", "tell-it-with-a-meme/lab=true",
        "--label", f"tell-it-with-a-meme/lab.state={state_owner(Path('/tmp/one/lab'))}",
    )  # fmt: skip
    assert state_owner(Path("/tmp/one/lab")) != state_owner(Path("/tmp/two/lab"))
    assert state_owner(Path("/tmp/one/lab/../lab")) == state_owner(Path("/tmp/one/lab"))


def test_run_and_exec_lines_put_options_before_the_image_and_ask_for_stdin_only_when_fed():
    assert docker.run_argv("img", "a", "b", options=["--rm"]) == [
        "docker", "run", "--rm", "img", "a", "b",
    ]  # fmt: skip
    assert docker.exec_argv("node", "ls") == ["docker", "exec", "node", "ls"]
    assert docker.exec_argv("node", "cp", interactive=True)[:3] == ["docker", "exec", "-i"]
    assert docker.argv("import", Path("/x")) == ["docker", "import", "/x"]
