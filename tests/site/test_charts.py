"""The lab's charts, from fixture results (small runs of the real experiments): drawn as inline
SVG that follows the page's colours, with alt text and a table of the numbers, repeatable,
cached, and every value escaped; a fence that names the wrong thing stops the build."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from support.paths import ROOT

from generator.site import results, scaling
from generator.site.results import ResultFenceError, format_result
from generator.site.scaling import format_scaling

FIXTURES = Path(__file__).parent / "fixtures" / "results"
SCHEMA = ROOT / "docs" / "lab" / "results" / "schema.json"


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    results_folder = tmp_path / "results"
    shutil.copytree(FIXTURES, results_folder)
    shutil.copy(SCHEMA, results_folder)
    monkeypatch.setenv(results.RESULTS_ENV, str(results_folder))
    monkeypatch.setenv(results.CACHE_ENV, str(tmp_path / "cache"))
    return results_folder


def fence(experiment: str, chart: str | None = None) -> str:
    source = f"experiment: {experiment}\n" + (f"chart: {chart}\n" if chart else "")
    return format_result(source, "lab-result", "lab-result", {}, None)


@pytest.mark.parametrize("chart", sorted(results.CHARTS))
def test_every_chart_is_an_inline_image_with_alt_text_and_its_numbers(folder, chart):
    experiment = results.CHARTS[chart].experiment
    out = fence(experiment, chart)
    svg = out[out.index("<svg") : out.index("</svg>")]
    label = re.search(r'<svg role="img" aria-label="([^"]+)"', svg)
    assert label and len(label.group(1)) > 60, "the chart needs its alt text"
    # Text and axes take the page's own colour, in light and dark mode alike.
    assert "currentColor" in svg and results.charts.INK not in svg
    assert "font-family" in svg or "font:" in svg  # text stays text, not outlines
    assert "<table>" in out and out.count("<tr>") >= 3
    assert f'href="results/{experiment}.json"' in out
    document = json.loads((folder / f"{experiment}.json").read_text())
    assert document["metadata"]["date"][:10] in out


def test_charts_are_repeatable_and_drawn_once(folder, tmp_path):
    first = fence("lead-time")
    cached = list((tmp_path / "cache").glob("lead-time-wide-*.svg"))
    assert len(cached) == 1 and len(list((tmp_path / "cache").glob("lead-time-narrow-*"))) == 1
    cached[0].write_text(cached[0].read_text().replace("commit to running", "CACHED"))
    assert "CACHED" in fence("lead-time")  # the cache answered: nothing was drawn again
    cached[0].unlink()
    assert fence("lead-time") == first  # drawn again, byte for byte the same


def test_a_new_result_draws_a_new_chart(folder, tmp_path):
    fence("lead-time")
    path = folder / "lead-time.json"
    document = json.loads(path.read_text())
    document["summary"][0].update(median=99.5, min=99.0, max=100.0)
    path.write_text(json.dumps(document))
    assert "99.5 s" in fence("lead-time")
    assert len(list((tmp_path / "cache").glob("lead-time-wide-*.svg"))) == 2


def test_hostile_series_names_stay_text(folder):
    path = folder / "lead-time.json"
    document = json.loads(path.read_text())
    hostile = '"><img src=x onerror=alert(1)>'
    for row in document["summary"]:
        row["series"] = hostile + row["series"]
    for sample in document["samples"]:
        sample["series"] = hostile + sample["series"]
    path.write_text(json.dumps(document))
    out = fence("lead-time")
    assert "<img" not in out and "onerror=alert(1)>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("experiment: lead-time\nchart: pie\n", "unknown chart 'pie'"),
        ("experiment: lead-time\nchart: polling-cpu\n", "draws the polling-load result"),
        ("chart: lead-time\n", "needs `experiment: NAME`"),
        ("experiment: lead-time\ncolour: red\n", "unknown keys ['colour']"),
        ("experiment: [unclosed\n", "is not YAML"),
        ("experiment: drift\nchart: lead-time\n", "draws the lead-time result"),
        ("experiment: lead-time\n" + "#" * 3000, "at most 2000"),
    ],
)
def test_a_fence_that_names_the_wrong_thing_says_what_to_do(folder, source, expected):
    with pytest.raises(ResultFenceError) as caught:
        format_result(source, "lab-result", "lab-result", {}, None)
    assert expected in str(caught.value)


def test_a_missing_or_broken_result_stops_the_build_with_the_fix(folder):
    (folder / "lead-time.json").unlink()
    with pytest.raises(ResultFenceError, match="run `make experiments`"):
        fence("lead-time")
    (folder / "polling-load.json").write_text('{"experiment": "polling-load"}')
    with pytest.raises(ResultFenceError, match=r"does not match schema\.json"):
        fence("polling-load", "polling-cpu")


def test_the_credentials_grid_says_allowed_and_refused_in_words(folder):
    out = fence("credentials")
    svg = out[out.index("<svg") : out.index("</svg>")]
    # Not colour alone: every cell says what the lab answered, in the chart and in the table.
    assert "3 of 3 clusters" in svg and "refused" in svg and "allowed" in svg
    phone = out[out.index('class="lab-chart lab-chart--narrow"') : out.index("</figure>")]
    assert "<svg" not in phone and "change the app: 3 of 3 clusters" in phone  # a table
    table = out[out.index("<details") :]
    assert "change the app (3 of 3 clusters); push to the config repository" in table
    assert "where it lives" in table and "in the CI system" in table
    assert "<td>nothing</td>" in table  # the source-controller's token opened nothing


def test_the_flexibility_chart_says_whether_the_docker_host_served(folder):
    out = fence("flexibility")
    assert "a plain Docker host" in out
    assert re.search(r"served the new version after (\d+) of \1 runs", out)


def test_the_scaling_model_takes_its_inputs_from_the_results(folder):
    polling = json.loads((folder / "polling-load.json").read_text())
    lead = json.loads((folder / "lead-time.json").read_text())
    inputs = scaling.inputs_from(polling, lead)
    # The new protocol's poll does not grow with refs; the old one's does, by tens of bytes.
    assert inputs.bytes_per_ref["ours"] == 0 and inputs.bytes_per_ref["flux"] > 30
    assert inputs.bytes_base["ours"] == 124
    small, large = (scaling.predict(inputs, n, 60, 100, "flux") for n in (100, 1000))
    assert math.isclose(large.requests_per_minute, 10 * small.requests_per_minute)
    assert math.isclose(large.requests_per_minute, 1000)
    assert math.isclose(large.git_cores, 10 * small.git_cores)
    # The latest of many polls approaches the whole interval, plus the apply.
    assert small.pull_seconds < large.pull_seconds < 60 + inputs.apply_seconds["flux"]
    # Push: its own steps once, then a wave of applies per `parallel` clusters; at the lab's
    # own count of clusters, deployed all at once as the lab's pipeline did, its measured run.
    pushed = scaling.predict(inputs, 25, 60, 1, "ours", parallel=10).push_seconds
    assert math.isclose(pushed, inputs.pipeline_seconds + 3 * inputs.wave_seconds)  # 3 waves
    clusters = lead["parameters"]["clusters"]
    assert inputs.parallel == clusters
    at_home = scaling.predict(inputs, clusters, 60, 1, "ours").push_seconds
    assert math.isclose(at_home, max(inputs.push_seconds, inputs.wave_seconds))
    fleet = [scaling.predict(inputs, n, 60, 1, "ours").push_seconds for n in (3, 30, 300)]
    assert fleet == sorted(fleet) and fleet[2] > 50 * fleet[0] / 10  # grows with the fleet
    out = format_scaling("", "lab-scaling", "lab-scaling", {}, None)
    assert out.count("<table>") == 5 and 'class="scaling-calculator"' in out
    assert out.index("scaling-assumptions") < out.index("<details")  # beside it, not folded
    models = json.loads(re.search(r'scaling-inputs">([^<]+)</script>', out).group(1))
    assert models["kind"]["cores"] >= 1 and models["kwok"]["provider"] == "kwok"


def test_the_realistic_line_takes_its_times_from_kind_and_the_optimistic_one_from_kwok(folder):
    """Apply and push times come from the kind result (pods really start) for the realistic
    line and from kwok for the lower bound; the crossover moves with them."""
    read = {n: json.loads((folder / f"{n}.json").read_text())
            for n in ("polling-load", "lead-time", "lead-time-kind")}  # fmt: skip
    models = scaling.model_inputs(folder)
    kind = {r["series"]: r["median"] for r in read["lead-time-kind"]["summary"]}
    woken = kind["pull (the lab's agent), woken by the webhook"]
    assert models["kind"].apply_seconds["ours"] == woken
    assert models["kind"].push_seconds == kind["push, without the build"]
    assert models["kwok"].push_seconds < models["kind"].push_seconds
    # Slower waves on kind: push stays ahead of polling for fewer clusters than on kwok.
    assert 0 < scaling.crossover(models["kind"], 60) < scaling.crossover(models["kwok"], 60)
    fleet = scaling.crossover(models["kind"], 60)
    ahead = scaling.predict(models["kind"], fleet, 60, 1, "ours")
    behind = scaling.predict(models["kind"], fleet + 1, 60, 1, "ours")
    assert ahead.push_seconds < ahead.pull_seconds and behind.push_seconds >= behind.pull_seconds
    with pytest.raises(ResultFenceError, match="takes nothing inside it"):
        format_scaling("fleet: 10\n", "lab-scaling", "lab-scaling", {}, None)
