"""The lab page's verdicts are worked out from the results: measured otherwise, they change.

Each rule is tried on the lab's own results, then on copies changed the way another run could
have come out; the summary table prints what the rules say, with its numbers linked."""

from __future__ import annotations

import copy
import json
import re

import pytest
from support.paths import ROOT

from generator.site import results, verdicts

RESULTS = ROOT / "docs" / "lab" / "results"
LAB = ROOT / "docs" / "lab" / "index.md"


def measured(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def row(document: dict, series: str) -> dict:
    return next(r for r in document["summary"] if r["series"] == series)


def test_every_claim_has_a_verdict_and_a_section_that_quotes_it():
    page = LAB.read_text()
    found = verdicts.verdicts(RESULTS)
    assert [v.key for v in found] == [
        "lead-time", "polling-load", "propagation-drift", "credentials", "flexibility",
        "agent-footprint",
    ]  # fmt: skip
    for verdict in found:
        assert verdict.verdict in verdicts.MEANINGS
        assert (verdict.verdict == verdicts.HELD) == (verdict.condition == "")
        assert f"{{ #{verdict.key} }}" in page, f"the lab page has no section #{verdict.key}"
        assert f"`#!lab verdicts:{verdict.key}:verdict`" in page  # read, never typed


def test_lead_time_follows_the_measurements():
    kind = measured("lead-time-kind")
    assert verdicts.lead_time(kind).verdict == verdicts.CONDITION  # the webhook's condition
    slow_hook = copy.deepcopy(kind)
    row(slow_hook, "pull (the lab's agent), woken by the webhook")["median"] = 60.0
    assert verdicts.lead_time(slow_hook).verdict == verdicts.HELD
    slow_push = copy.deepcopy(kind)
    row(slow_push, "push, with the image build")["median"] = 100.0
    assert verdicts.lead_time(slow_push).verdict == verdicts.NOT_HELD


def test_polling_load_follows_the_measurements():
    polling = measured("polling-load")
    assert verdicts.polling_load(polling).verdict == verdicts.CONDITION
    flat = copy.deepcopy(polling)
    for sample in flat["samples"]:
        if "grow" in sample["series"] and sample["kind"] == "flux":
            sample["bytes_per_request"] = 400  # an old protocol that did not grow
    assert verdicts.polling_load(flat).verdict == verdicts.HELD
    shed = copy.deepcopy(polling)
    for sample in shed["samples"]:
        if (sample["kind"], sample["interval"], sample["pollers"]) == ("ours", 5, 1000):
            sample["requests_per_minute"] /= 3  # the load did not follow the pollers
    assert verdicts.polling_load(shed).verdict == verdicts.NOT_HELD


def test_propagation_follows_the_measurements():
    drift = measured("propagation-drift")
    found = verdicts.propagation(drift)
    assert found.verdict == verdicts.CONDITION and "Flux" in found.condition
    every = copy.deepcopy(drift)
    for entry in every["summary"]:
        if entry["series"].startswith("pull"):
            entry["repaired"] = entry["n"]
    assert verdicts.propagation(every).verdict == verdicts.HELD
    pushed = copy.deepcopy(every)
    row(pushed, "push (pipeline): a change made by hand")["repaired"] = 1
    assert verdicts.propagation(pushed).verdict == verdicts.NOT_HELD


def test_credentials_and_flexibility_follow_the_measurements():
    stolen = measured("credentials")
    assert verdicts.credentials(stolen).verdict == verdicts.CONDITION
    narrow_ci = copy.deepcopy(stolen)
    narrow_ci["summary"][0]["clusters_opened"] = 1
    assert verdicts.credentials(narrow_ci).verdict == verdicts.NOT_HELD
    host = measured("flexibility")
    assert verdicts.flexibility(host).verdict == verdicts.HELD
    for sample in host["samples"]:
        if sample.get("kind") == "docker":
            sample["answered"] = False
            break
    assert verdicts.flexibility(host).verdict == verdicts.NOT_HELD


def test_the_summary_table_prints_the_rules_with_their_numbers_linked(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(RESULTS))
    monkeypatch.setenv(results.CACHE_ENV, str(tmp_path / "cache"))
    out = verdicts.format_summary("", "lab-summary", "lab-summary", {}, None)
    assert out.count("<tr>") == 1 + len(verdicts.RULES)
    for verdict in verdicts.verdicts(RESULTS):
        assert f'href="#{verdict.key}"' in out and verdict.claim.replace("'", "&#x27;") in out
    numbers = re.findall(r'<a class="lab-number[^"]*" href="([^"]+)"', out)
    assert len(numbers) >= 2 * len(verdicts.RULES)
    assert all(re.fullmatch(r"results/[a-z-]+\.json", href) for href in numbers), numbers
    for meaning in verdicts.MEANINGS:
        assert f"<strong>{meaning}</strong>" in out
    with pytest.raises(results.ResultFenceError, match="leave it empty"):
        verdicts.format_summary("x: 1", "lab-summary", "lab-summary", {}, None)


def test_a_result_without_what_a_verdict_reads_says_what_to_run(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    for path in RESULTS.glob("*.json"):
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv(results.CACHE_ENV, str(tmp_path / "cache"))
    footprint = json.loads((folder / "agent-footprint.json").read_text())
    footprint["summary"] = [r for r in footprint["summary"] if "memory" not in r["series"]]
    (folder / "agent-footprint.json").write_text(json.dumps(footprint))
    with pytest.raises(results.ResultFenceError, match=r"agent-footprint.*make experiments"):
        verdicts.verdicts(folder)


def test_a_page_quotes_a_verdict_linked_to_its_section(tmp_path, monkeypatch):
    from generator.site import numbers

    monkeypatch.setenv(results.CACHE_ENV, str(tmp_path / "cache"))
    quote = numbers.resolve(numbers.parse("verdicts:credentials:verdict"), RESULTS)
    assert quote.text == verdicts.credentials(measured("credentials")).verdict
    assert quote.target == "lab/#credentials"
    html = numbers.link_html(quote, "series/part-4-push-or-pull/")
    assert 'href="../../lab/#credentials"' in html
    with pytest.raises(numbers.LabReferenceError, match="no summary row 'speed'"):
        numbers.resolve(numbers.parse("verdicts:speed:verdict"), RESULTS)
