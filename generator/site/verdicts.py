"""What the lab found for each claim of part 4: a verdict worked out from the results, never typed.

Each rule is a pure function of result documents: it says whether the claim held, held with a
condition, or did not hold, names the condition in words, and gives the numbers that decide it
as `#!lab` references (so the page prints them linked to their file, like any other number).
A result measured again can change a verdict; the page follows.

    ```lab-summary
    ```

prints the table at the top of the lab page; `#!lab verdicts:lead-time:verdict` prints one
verdict in running text.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .fence import page_location
from .fences import loud
from .numbers import link_html, parse, resolve, slug
from .results import ResultFenceError, load_result, results_dir, table_html

HELD = "held"
CONDITION = "held, with a condition"
NOT_HELD = "did not hold"
MEANINGS = {
    HELD: "the lab measured what the claim says, without a but.",
    CONDITION: "it is true as far as it goes, and the condition says where it stops.",
    NOT_HELD: "the lab measured the opposite of what the claim says.",
}


@dataclass(frozen=True)
class Verdict:
    key: str  # its anchor on the lab page, and its entry in `#!lab verdicts:KEY:...`
    claim: str  # the claim, in a few words
    verdict: str  # HELD, CONDITION or NOT_HELD
    condition: str  # where it stops ("" when it held outright)
    decider: tuple[str, ...]  # words, and `#!lab` references between backquotes


def _rows(document: dict) -> dict[str, dict]:
    return {row["series"]: row for row in document["summary"]}


def _ref(result: str, entry: str, field: str, unit: str = "") -> str:
    return f"`{result}:{entry}:{field}{' ' + unit if unit else ''}`"


def lead_time(kind: dict) -> Verdict:
    """On kind (real pods): push against pull polling, and pull woken by the webhook."""
    rows = _rows(kind)
    push = rows["push, with the image build"]
    polling = [r for name, r in rows.items() if "polling every" in name]
    hook = next(r for name, r in rows.items() if name.endswith("woken by the webhook"))
    slowest = max(polling, key=lambda r: r["median"])
    name = kind["experiment"]
    if push["median"] >= min(r["median"] for r in polling):
        verdict, condition = NOT_HELD, ""
    elif hook["median"] <= push["median"] * 1.25:
        verdict = CONDITION
        condition = "a webhook makes pull as fast as push"
    else:
        verdict, condition = HELD, ""
    return Verdict(
        "lead-time", "Push is fast; pull waits for its poll", verdict, condition,
        ("push", _ref(name, slug(push["series"]), "median"), "; pull polling every",
         f"{slowest['series'].rsplit('every ', 1)[1]}", _ref(name, slug(slowest["series"]),
         "median"), "; woken by the webhook", _ref(name, slug(hook["series"]), "median")),
    )  # fmt: skip


def polling_load(document: dict) -> Verdict:
    """The load follows clients over interval; the old protocol's answer grows with refs."""
    steps = [s for s in document["samples"] if "grow" not in s["series"] and not s["saturated"]]
    ours = [s for s in steps if s["kind"] == "ours" and s["interval"] == 5]
    step = max(ours, key=lambda s: s["pollers"])
    expected = step["pollers"] / step["interval"] * 60
    grown = {(s["kind"], s["refs"]): s for s in document["samples"] if "grow" in s["series"]}
    flux = sorted((refs, s) for (kind, refs), s in grown.items() if kind == "flux")
    proportional = abs(step["requests_per_minute"] - expected) <= 0.1 * expected
    grows = len(flux) > 1 and flux[-1][1]["bytes_per_request"] > 2 * flux[0][1]["bytes_per_request"]
    verdict = (CONDITION if grows else HELD) if proportional else NOT_HELD
    condition = "the old protocol's answer grows with every ref"
    entry = f"kind=ours,pollers={step['pollers']},interval={step['interval']:g}"
    name = document["experiment"]
    return Verdict(
        "polling-load", "Polling loads git at scale", verdict, condition if grows else "",
        (_ref(name, entry, "pollers"), f"clusters polling every {step['interval']:g} s:",
         _ref(name, entry, "requests_per_minute"), "requests a minute,",
         _ref(name, entry, "cpu_percent", "cores"), "of the git server"),
    )  # fmt: skip


def propagation(document: dict) -> Verdict:
    """Push never came back to what it missed; the pull agents put both cases right."""
    rows = document["summary"]
    push = [r for r in rows if r["series"].startswith("push")]
    pull = [r for r in rows if r["series"].startswith("pull")]
    ours = [r for r in pull if "the lab's agent" in r["series"]]
    wait = document["parameters"]["wait_seconds"]
    missed = [r for r in pull if r["repaired"] < r["n"]]
    if any(r["repaired"] for r in push) or not ours or any(r["repaired"] < r["n"] for r in ours):
        verdict, condition = NOT_HELD, ""
    elif missed:
        verdict = CONDITION
        late = missed[0]
        who = late["series"].split(":")[0].removeprefix("pull (").rstrip(")")
        condition = (
            f"{who} took longer than the {wait:g} s waited in {late['n'] - late['repaired']}"
            f" of {late['n']} runs"
        )
    else:
        verdict, condition = HELD, ""
    name = document["experiment"]
    down = next(r for r in push if "down" in r["series"])
    fixed = next(r for r in ours if "down" in r["series"])
    return Verdict(
        "propagation-drift", "Push must reach every environment; pull puts it right", verdict,
        condition,
        ("push put right", _ref(name, slug(down["series"]), "repaired"), "of",
         _ref(name, slug(down["series"]), "n"), "clusters it missed; the lab's agent did after",
         _ref(name, slug(fixed["series"]), "median")),
    )  # fmt: skip


def credentials(document: dict) -> Verdict:
    """The CI secret opens every cluster; an agent's token its own; and the CI system still
    holds the config repository's push token under pull."""
    rows = document["summary"]
    clusters = document["parameters"]["clusters"]
    ci = next(r for r in rows if "CI" in r["series"])
    others = [r for r in rows if r is not ci]
    pushes = [s for s in document["samples"]
              if s["series"] == ci["series"] and "config repository" in s["action"]]  # fmt: skip
    agent = next(r for r in others if "agent" in r["series"])
    if ci["clusters_opened"] < clusters or any(r["clusters_opened"] > 1 for r in others):
        verdict, condition = NOT_HELD, ""
    elif any(s["allowed"] for s in pushes):
        verdict = CONDITION
        condition = "CI still holds git's push token, which deploys everywhere"
    else:
        verdict, condition = HELD, ""
    name = document["experiment"]
    return Verdict(
        "credentials", "Pull keeps the cluster keys inside the clusters", verdict, condition,
        ("a stolen CI secret opened", _ref(name, slug(ci["series"]), "clusters_opened"), "of",
         _ref(name, "parameters", "clusters"), "clusters; an agent's token",
         _ref(name, slug(agent["series"]), "clusters_opened")),
    )  # fmt: skip


def flexibility(document: dict) -> Verdict:
    """The same pipeline run updated a plain Docker host; a pull agent has nothing there."""
    runs = document["parameters"]["runs"]
    hosts = [s for s in document["samples"] if s.get("kind") == "docker"]
    answered = sum(bool(s.get("answered")) for s in hosts)
    verdict = HELD if hosts and answered == len(hosts) == runs else NOT_HELD
    name = document["experiment"]
    row = next(r for r in document["summary"] if "Docker" in r["series"])
    return Verdict(
        "flexibility", "Push reaches targets that are not Kubernetes", verdict, "",
        ("a Docker host updated in", _ref(name, slug(row["series"]), "n"), "of",
         _ref(name, "parameters", "runs"), "runs,", _ref(name, slug(row["series"]), "median"),
         "after the pipeline reached it"),
    )  # fmt: skip


def footprint(document: dict) -> Verdict:
    """An agent in every cluster costs memory and polls, even idle."""
    rows = _rows(document)
    memory = rows["the lab's agent: memory per cluster"]
    polls = rows["the lab's agent: idle requests per cluster per minute"]
    flux = rows["Flux: memory per cluster"]
    verdict = HELD if memory["median"] > 0 and polls["median"] > 0 else NOT_HELD
    name = document["experiment"]
    return Verdict(
        "agent-footprint", "An agent in every cluster is not free", verdict, "",
        ("the lab's agent", _ref(name, slug(memory["series"]), "median"), "and",
         _ref(name, slug(polls["series"]), "median count"), "idle polls a minute per cluster;"
         " Flux", _ref(name, slug(flux["series"]), "median")),
    )  # fmt: skip


RULES: tuple[tuple[tuple[str, ...], Callable[..., Verdict]], ...] = (
    (("lead-time-kind",), lead_time),
    (("polling-load",), polling_load),
    (("propagation-drift",), propagation),
    (("credentials",), credentials),
    (("flexibility",), flexibility),
    (("agent-footprint",), footprint),
)


def verdicts(folder: Path) -> list[Verdict]:
    """Every claim's verdict, from the results in `folder`."""
    found = []
    for names, rule in RULES:
        documents = [load_result(folder, name)[0] for name in names]
        try:
            found.append(rule(*documents))
        except (KeyError, StopIteration, ValueError) as error:
            raise ResultFenceError(
                f"the verdict on {names[0]} cannot be worked out from {names[0]}.json"
                f" ({type(error).__name__}: {error}): run `make experiments` again"
            ) from None
    return found


def as_result(folder: Path) -> dict:
    """The verdicts as a result pages can quote: `#!lab verdicts:lead-time:verdict`."""
    rows = [{"series": v.key, "verdict": v.verdict, "condition": v.condition or "none",
             "_target": f"lab/#{v.key}"} for v in verdicts(folder)]  # fmt: skip
    return {"experiment": "verdicts", "summary": rows, "_target": "lab/#lab-summary",
            "_name": "the lab's verdicts"}  # fmt: skip


def _decider_html(decider: tuple[str, ...], page_url: str) -> str:
    folder = results_dir()
    parts = []
    for piece in decider:
        if piece.startswith("`"):
            parts.append(link_html(resolve(parse(piece.strip("`")), folder), page_url))
        else:
            parts.append(html.escape(piece))
    return " ".join(parts).replace(" ;", ";").replace(" ,", ",")


@loud("lab-summary")
def format_summary(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter of the `lab-summary` fence (empty): the claims, their verdicts,
    the numbers that decide them, a link to each section, and what the verdicts mean."""
    if src.strip():
        raise ResultFenceError("a lab-summary fence takes nothing inside it: leave it empty")
    where = page_location(md)
    page_url = where[1] if where else "lab/"
    rows = []
    for found in verdicts(results_dir()):
        condition = f": {html.escape(found.condition)}" if found.condition else ""
        rows.append(
            f'<tr><td><a href="#{html.escape(found.key)}">{html.escape(found.claim)}</a></td>'
            f'<td><strong class="lab-verdict" data-verdict="{html.escape(found.verdict)}">'
            f"{html.escape(found.verdict)}</strong>{condition}</td>"
            f"<td>{_decider_html(found.decider, page_url)}</td></tr>"
        )
    meanings = "".join(
        f"<li><strong>{html.escape(name)}</strong>: {html.escape(text)}</li>"
        for name, text in MEANINGS.items()
    )
    head = table_html(["claim of part 4", "verdict", "what decides it"], [])
    head = head.replace("<tbody></tbody>", f"<tbody>{''.join(rows)}</tbody>")
    return (
        f'<div class="lab-summary" id="lab-summary">{head}'
        f'<p>What a verdict means:</p><ul class="lab-verdicts">{meanings}</ul></div>'
    )
