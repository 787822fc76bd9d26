"""The experiments at small size, for real (kwok clusters, the lab's git server and registry):
`make experiments SMALL=1` runs them all once, on one lab, and each result matches the
published schema and says what it should."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from support.lab import lab_at, need_docker, need_flux, need_lab_tools, need_registry
from support.paths import ROOT

from demo.cli.main import main
from demo.core import versions
from demo.core.errors import LabError
from demo.experiments.results import ResultError, check
from demo.experiments.runner import run_experiment


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """`python -m demo experiment all --small` (what `make experiments SMALL=1` runs), once,
    in a lab state of its own; the folder of its results."""
    need_lab_tools()
    need_flux()
    need_docker()
    need_registry()
    folder = tmp_path_factory.mktemp("experiments")
    before = os.environ.get("TELLIT_LAB_STATE")
    os.environ["TELLIT_LAB_STATE"] = str(folder / "yours")  # no lab of a reader's is up here
    try:
        code = main(["experiment", "all", "--small", "--out", str(folder / "results")])
    finally:
        if before is None:
            os.environ.pop("TELLIT_LAB_STATE", None)
        else:
            os.environ["TELLIT_LAB_STATE"] = before
    assert code == 0
    return folder / "results"


def small(name: str, folder) -> dict:
    """One experiment's result of the small run, checked against the schema."""
    document = json.loads((folder / f"{name}.json").read_text())
    check(document)
    assert document["metadata"]["size"] == "small"
    return document


@pytest.mark.provisioned
def test_polling_load_small(small_run):
    document = small("polling-load", small_run)
    samples = document["samples"]
    assert {s["kind"] for s in samples} == {"ours", "flux", "registry"}
    for sample in samples:
        assert sample["errors"] == 0 and not sample["saturated"], sample
        # Every offered request was answered, at the rate offered.
        assert sample["requests_per_minute"] == pytest.approx(sample["offered_per_minute"], 0.1)
    grown = {
        (s["kind"], s["refs"]): s["bytes_per_request"] for s in samples if "grow" in s["series"]
    }
    # Protocol v0 answers with every ref; v2 ls-refs of one ref does not grow.
    assert grown[("ours", 201)] == grown[("ours", 1)]
    assert grown[("flux", 201)] > 20 * grown[("flux", 1)]


@pytest.mark.provisioned
def test_lead_time_small_on_kwok(small_run):
    document = small("lead-time", small_run)
    assert document["metadata"]["provider"] == "kwok"
    assert document["metadata"]["versions"]["flux"] == versions.FLUX
    series = {row["series"]: row for row in document["summary"]}
    expected = {
        "push, with the image build",
        "push, without the build",
        "pull (the lab's agent), polling every 2 s",
        "pull (the lab's agent), woken by the webhook",
        "pull (Flux), polling every 2 s",
        "pull (Flux), woken by the webhook",
    }
    assert set(series) == expected
    assert all(row["median"] > 0 for row in series.values())
    # Each pull commit has a sample to every cluster and one per cluster (three clusters).
    pulls = [s for s in document["samples"] if s["model"] == "pull"]
    assert sum(s["scope"] == "one cluster" for s in pulls) == 3 * sum(
        s["scope"] == "every cluster" for s in pulls
    )


@pytest.mark.provisioned
def test_stolen_credentials_open_what_each_model_says(small_run):
    document = small("credentials", small_run)
    answer = {(s["holder"], s["action"], s["target"]): s["status"] for s in document["samples"]}
    clusters = ("east", "west", "north")
    # The CI secret opens every cluster and the config repository, and nothing more.
    assert [answer["pipeline", "change the app", c] for c in clusters] == [200] * 3
    assert answer["pipeline", "push to the config repository", "config"] == 200
    # An agent's token opens its own cluster only; the others do not know it.
    assert [answer["ours", "change the app", c] for c in clusters] == [200, 401, 401]
    assert answer["ours", "push to the config repository", "config"] == 401
    # Flux's kustomize-controller watches the namespace's Secrets, so its token reads them.
    assert answer["flux-kustomize", "read the app namespace's Secrets", "east"] == 200
    assert answer["flux-source", "change the app", "east"] == 403
    for holder in ("pipeline", "ours", "flux-kustomize", "flux-source"):
        assert answer[holder, "grant itself more rights", "east"] == 403
        assert answer[holder, "read another namespace", "east"] == 403
    assert answer["pipeline", "read the app namespace's Secrets", "east"] == 403
    assert answer["ours", "read the app namespace's Secrets", "east"] == 403
    rows = {row["series"]: row for row in document["summary"]}
    assert rows["a stolen CI secret (the pipeline's)"]["clusters_opened"] == 3


@pytest.mark.provisioned
def test_push_delivers_to_a_plain_docker_host(small_run):
    document = small("flexibility", small_run)
    host = [s for s in document["samples"] if s["kind"] == "docker"]
    assert len(host) == 2 and all(s["answered"] for s in host)  # served each new version
    assert {s["target"] for s in document["samples"] if s["kind"] == "kubernetes"} == {
        "east",
        "west",
        "north",
    }
    assert document["parameters"]["pull_would_need"]
    # The runner took the lab down: no container of the host is left.
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=tell-it-with-a-meme/lab.host"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""


@pytest.mark.provisioned
def test_each_agent_s_footprint_per_cluster(small_run):
    document = small("agent-footprint", small_run)
    rows = {row["series"]: row for row in document["summary"]}
    for name in ("the lab's agent", "Flux"):
        memory = rows[f"{name}: memory per cluster"]
        assert memory["unit"] == "MiB" and memory["n"] == 3 and memory["median"] > 5
        # Polling every 2 s for the window: about 30 requests a minute, each a few hundred B.
        requests = rows[f"{name}: idle requests per cluster per minute"]["median"]
        assert 20 <= requests <= 40, requests
        assert rows[f"{name}: idle bytes per cluster per minute"]["median"] > 50 * requests
    # Two Go controllers with caches against one small Python process.
    ours = rows["the lab's agent: memory per cluster"]["median"]
    assert ours < rows["Flux: memory per cluster"]["median"]


@pytest.mark.provisioned
def test_propagation_and_drift_small(small_run):
    document = small("propagation-drift", small_run)
    repaired = {(s["agent"], s["case"]): s["repaired"] for s in document["samples"]}
    # The pipeline deploys once per run: it puts right neither the outage nor the change.
    assert repaired["pipeline", "outage"] is False and repaired["pipeline", "drift"] is False
    # Our agent, polling every 2 s, puts both right within the 8 s waited.
    assert repaired["ours", "outage"] is True and repaired["ours", "drift"] is True
    assert repaired["flux", "drift"] is True  # Flux's outage recovery backs off: not asserted


def test_an_experiment_refuses_a_provider_it_cannot_run_on(tmp_path, monkeypatch):
    monkeypatch.setenv("TELLIT_LAB_STATE", str(tmp_path / "lab"))
    with pytest.raises(LabError) as caught:
        run_experiment("credentials", lab_at(tmp_path / "lab"), "small", "kind", tmp_path / "out")
    assert "runs on kwok, not kind" in caught.value.message
    assert not (tmp_path / "lab").exists() and not (tmp_path / "out").exists()


def test_a_result_that_breaks_the_schema_is_refused_with_every_problem(tmp_path):
    document = {
        "experiment": "Lead Time",
        "title": "t",
        "claim": "c",
        "metadata": {"date": "today", "provider": "moon", "size": "small", "cores": 0},
        "parameters": {},
        "samples": [],
        "summary": [{"series": "x", "unit": "s", "n": 1, "median": 1, "min": 1, "max": 1}],
    }
    with pytest.raises(ResultError) as caught:
        check(document)
    message = caught.value.message
    for problem in ("experiment:", "metadata/provider:", "metadata/cores:", "samples:"):
        assert problem in message, message
    assert "required property" in message  # machine, python, versions, seconds are missing


def test_a_result_with_nan_infinity_or_a_negative_duration_is_refused(tmp_path):
    """Python writes NaN and Infinity into JSON (which has neither): the calculator's data
    then breaks the page. Every number the lab measures is zero or more."""
    document = json.loads((ROOT / "docs/lab/results/lead-time.json").read_text())
    document["samples"][0]["seconds"] = float("nan")
    document["samples"][1]["seconds"] = -2.0
    document["summary"][0]["max"] = float("inf")
    with pytest.raises(ResultError) as caught:
        check(document)
    message = caught.value.message
    assert "samples/0/seconds: nan is not a number" in message, message
    assert "samples/1/seconds: -2.0 is less than the minimum of 0" in message, message
    assert "summary/0/max: inf is not a number" in message, message


def test_an_experiment_refuses_to_run_beside_a_lab_that_is_up(tmp_path, monkeypatch):
    # A state of its own that is never torn down: the refusal comes before anything is made
    # (and a teardown would sweep the labelled containers of a kind lab starting meanwhile).
    state = tmp_path / "yours"
    state.mkdir()
    (state / "lab.json").write_text('{"provider": "kwok", "clusters": ["east"]}')
    monkeypatch.setenv("TELLIT_LAB_STATE", str(state))
    out = tmp_path / "results"
    with pytest.raises(LabError) as caught:
        run_experiment("polling-load", lab_at(state), "small", "kwok", out)
    assert "take yours down first" in caught.value.fix
    assert not out.exists()  # nothing written
    assert sorted(p.name for p in state.iterdir()) == ["lab.json"]  # nothing started
