"""The agent's command line is spelled once: what the lab writes, the agent reads back as it
was meant, for a host process and for a cluster's pod alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.delivery.agent import incluster
from demo.delivery.agent.settings import Launch, Settings, argv, parse

SETTINGS = Settings("east", "http://127.0.0.1:9/config.git", "shop", Path("/w"), interval=2.5)


@pytest.mark.parametrize(
    "launch",
    [Launch(Path("/k/agent.yaml"), "agent", 9100, 9101), Launch(metrics_port=1, webhook_port=2)],
    ids=["host", "in-cluster"],
)
def test_what_argv_writes_parse_reads_back(launch, monkeypatch):
    monkeypatch.setenv("TELLIT_WEBHOOK_SECRET", "s3cret")
    assert parse(argv(SETTINGS, launch)) == (
        Settings(**{**SETTINGS.__dict__, "webhook_secret": "s3cret"}),
        launch,
    )
    assert "s3cret" not in " ".join(argv(SETTINGS, launch)), "the secret is no argument"


def test_the_pod_runs_the_same_command_line():
    manifest = incluster.agent_manifest("img", "east", "shop", SETTINGS.repo_url, 2.5, "s3cret")
    assert "--in-cluster" in manifest and "--kubeconfig" not in manifest


def test_a_wrong_command_line_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as refused:
        parse(["--cluster", "east", "--in-cluster", "--kubeconfig", "k", "--repo", "r",
               "--namespace", "n", "--work", "w"])  # fmt: skip
    assert refused.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
