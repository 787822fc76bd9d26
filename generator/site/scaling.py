"""The scaling model: what the lab's measured costs imply for a fleet of any size.

Its inputs are read from the lab's results, never typed in; its assumptions are stated on the
page with it. The git server's costs come from polling-load; the agents' apply times and the
pipeline's run come from lead time, twice: from kind (real pods start, the realistic line) and
from kwok (no pod starts, the optimistic line):

- polls are spread evenly and independently over the interval (agents add jitter);
- the git server's cost per request is what this machine measured at its busiest step, plus,
  for the old protocol, what each extra ref added per request (a straight line through the
  measured points), and it grows linearly: nothing here models a server that saturates;
- a commit reaches every cluster when the last poller has polled: the expected latest of N
  uniform waits is interval x N / (N + 1), then the agent's own apply (its webhook time);
- push deploys to `parallel` clusters at once (by default as many as the lab's pipeline did:
  all of its clusters), each wave as long as one cluster's apply, measured as the agent's
  webhook time on that provider; what the lab's run took besides is the pipeline's own part
  (checking out, publishing, committing), paid once;
- Flux ran on kwok only (its images cannot be pulled here): on kind, its apply time is taken
  as the lab's agent's, and the build's cost is kwok's (the build runs on the same Docker
  host either way; on kind it is lost in the rollout's spread).

The same formulas run in the page's calculator (docs/assets/scaling.js); a browser test checks
that both give the same answers.
"""

from __future__ import annotations

import html
import json
import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from . import charts
from .fences import loud
from .results import ResultFenceError, load_result, results_dir, table_html

AGENTS = ("ours", "flux")


@dataclass(frozen=True)
class Inputs:
    """Everything the model takes from the measurements (seconds, bytes, core-seconds)."""

    cpu_per_request: dict[str, float]  # core-seconds of the git server per idle poll
    cpu_per_ref: dict[str, float]  # extra core-seconds per poll for each ref in the repository
    bytes_base: dict[str, float]  # bytes of one idle poll with no refs but main
    bytes_per_ref: dict[str, float]
    apply_seconds: dict[str, float]  # a woken agent's time to apply (webhook lead time)
    push_seconds: float  # the pipeline's run to three clusters at once, without the build
    build_seconds: float  # what the image build added
    measured_rate: float  # the highest request rate measured, per second
    cores: int  # of the machine that measured
    provider: str = "kwok"  # where the apply and push times were measured
    parallel: int = 3  # clusters the lab's pipeline deployed to at once (all of them)

    @property
    def wave_seconds(self) -> float:
        """One wave of push's deploys: a cluster's apply and rollout, as the agent measured it."""
        return self.apply_seconds["ours"]

    @property
    def pipeline_seconds(self) -> float:
        """The pipeline's own part of its run, paid once whatever the fleet."""
        return max(0.0, self.push_seconds - self.wave_seconds)


@dataclass(frozen=True)
class Prediction:
    requests_per_minute: float
    bytes_per_minute: float
    git_cores: float  # of this machine's kind of core
    beyond_measured: bool  # more requests a second than the lab ever sent
    pull_seconds: float  # commit to every cluster, polling
    webhook_seconds: float
    push_seconds: float


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope (a flat line through one point)."""
    if len({x for x, _ in points}) < 2:
        return statistics.mean(y for _, y in points), 0.0
    slope, intercept = statistics.linear_regression(*zip(*points, strict=True))
    return intercept, slope


def inputs_from(polling: dict, lead: dict, build_from: dict | None = None) -> Inputs:
    """The model's inputs from the results (pure: the documents, not files): the git server's
    costs from `polling`, apply and push times from `lead`, the build's cost from `build_from`
    (default: `lead`)."""
    steps = [s for s in polling["samples"] if "grow" not in s["series"] and not s["saturated"]]
    grown = [s for s in polling["samples"] if "grow" in s["series"]]
    cpu, cpu_ref, base, per_ref = {}, {}, {}, {}
    for kind in AGENTS:
        busiest = max(
            (s for s in steps if s["kind"] == kind), key=lambda s: s["requests_per_minute"]
        )
        cpu[kind] = busiest["cpu_percent"] / 100 / (busiest["requests_per_minute"] / 60)
        mine = [s for s in grown if s["kind"] == kind]
        base[kind], per_ref[kind] = _line([(s["refs"], s["bytes_per_request"]) for s in mine])
        per_request = [(s["refs"], s["cpu_percent"] / 100 / (s["requests_per_minute"] / 60))
                       for s in mine]  # fmt: skip
        cpu_ref[kind] = max(0.0, _line(per_request)[1])
    webhook = _webhook_medians(lead)
    push = _median(lead, "push, without the build")
    built = build_from or lead
    return Inputs(
        cpu_per_request=cpu,
        cpu_per_ref=cpu_ref,
        bytes_base=base,
        bytes_per_ref=per_ref,
        apply_seconds={kind: webhook.get(kind, webhook["ours"]) for kind in AGENTS},
        push_seconds=push,
        build_seconds=max(
            0.0,
            _median(built, "push, with the image build")
            - _median(built, "push, without the build"),
        ),
        measured_rate=max(s["offered_per_minute"] for s in steps) / 60,
        cores=polling["metadata"]["cores"],
        provider=lead["metadata"]["provider"],
        parallel=lead["parameters"]["clusters"],
    )


def _median(lead: dict, series: str) -> float:
    rows = {r["series"]: r for r in lead["summary"]}
    if series not in rows:
        raise ResultFenceError(f"{lead['experiment']}.json has no {series!r}: measure it again")
    return rows[series]["median"]


def _webhook_medians(lead: dict) -> dict[str, float]:
    """Each agent's lead time when woken by the webhook: its apply time, waiting for nothing."""
    found = {}
    for row in lead["summary"]:
        name = row["series"]
        if name.startswith("pull") and name.endswith("webhook"):
            found["flux" if "Flux" in name else "ours"] = row["median"]
    if "ours" not in found:
        raise ResultFenceError(f"{lead['experiment']}.json has no webhook lead time of the agent")
    return found


PROVIDERS = {"kind": "lead-time-kind", "kwok": "lead-time"}
PROVIDER_LABELS = {
    "kind": "on kind, real pods (the realistic line)",
    "kwok": "on kwok, no pod starts (the optimistic line)",
}


def model_inputs(folder: Path) -> dict[str, Inputs]:
    """The model's inputs for each provider, read from the results in `folder`."""
    polling, _ = load_result(folder, "polling-load")
    kwok, _ = load_result(folder, PROVIDERS["kwok"])
    kind, _ = load_result(folder, PROVIDERS["kind"])
    return {"kind": inputs_from(polling, kind, build_from=kwok), "kwok": inputs_from(polling, kwok)}


def predict(
    inputs: Inputs, fleet: int, interval: float, refs: int, agent: str, parallel: int | None = None
) -> Prediction:
    """What a fleet of `fleet` clusters polling every `interval` seconds costs and waits; push
    deploys to `parallel` at once (the lab's own count when not given)."""
    at_once = max(1, parallel or inputs.parallel)
    rate = fleet / interval  # requests a second
    poll_bytes = inputs.bytes_base[agent] + inputs.bytes_per_ref[agent] * refs
    cpu = inputs.cpu_per_request[agent] + inputs.cpu_per_ref[agent] * refs
    apply = inputs.apply_seconds[agent]
    return Prediction(
        requests_per_minute=rate * 60,
        bytes_per_minute=rate * 60 * poll_bytes,
        git_cores=rate * cpu,
        beyond_measured=rate > inputs.measured_rate,
        pull_seconds=interval * fleet / (fleet + 1) + apply,
        webhook_seconds=apply,
        push_seconds=inputs.pipeline_seconds + inputs.wave_seconds * math.ceil(fleet / at_once),
    )


def size(value: float) -> str:
    """Bytes for people: 1.2 MB, 75 MB, 3.4 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= scale:
            return f"{charts.number(value / scale)} {unit}"
    return f"{charts.number(value)} B"


def duration(seconds: float) -> str:
    if seconds >= 7200:
        return f"{charts.number(seconds / 3600)} h"
    if seconds >= 120:
        return f"{charts.number(seconds / 60)} min"
    return f"{charts.number(seconds)} s"


FLEETS = (10, 100, 1000, 10000)
INTERVALS = (60, 5)


def load_rows(inputs: Inputs, refs: int = 1000) -> tuple[list[str], list[list[str]]]:
    """The git server's load, both agents side by side (narrow enough for a phone)."""
    header = ["clusters", "every", "requests / min", "bytes / min, v2", "bytes / min, v0",
              "cores, v2", "cores, v0"]  # fmt: skip
    rows = []
    for interval in INTERVALS:
        for fleet in FLEETS:
            ours, flux = (predict(inputs, fleet, interval, refs, a) for a in AGENTS)
            mark = " *" if ours.beyond_measured else ""
            rows.append([
                f"{fleet:,}", f"{interval:g} s", charts.number(ours.requests_per_minute) + mark,
                size(ours.bytes_per_minute), size(flux.bytes_per_minute),
                charts.number(ours.git_cores), charts.number(flux.git_cores),
            ])  # fmt: skip
    return header, rows


def lead_rows(inputs: Inputs) -> tuple[list[str], list[list[str]]]:
    """Lead time to every cluster, the lab's agent against push as many at once as the lab's."""
    header = ["clusters", "pull, every 60 s", "pull, every 5 s", "pull, webhook",
              f"push, {inputs.parallel} at once"]  # fmt: skip
    rows = []
    for fleet in FLEETS:
        slow, fast = (predict(inputs, fleet, i, 1, "ours") for i in INTERVALS)
        rows.append([f"{fleet:,}", duration(slow.pull_seconds), duration(fast.pull_seconds),
                     duration(fast.webhook_seconds), duration(fast.push_seconds)])  # fmt: skip
    return header, rows


def crossover(inputs: Inputs, interval: float, parallel: int | None = None) -> int:
    """The largest fleet to which push (`parallel` at once) delivers sooner than pull polling
    every `interval` (0 if never). Within a wave push's time stands still while pull's grows
    with the fleet, so the answer is always a whole number of waves."""
    parallel = parallel or inputs.parallel
    waves = 1
    while waves <= 10**6:
        fleet = waves * parallel
        guess = predict(inputs, fleet, interval, 1, "ours", parallel)
        if guess.push_seconds >= guess.pull_seconds:
            break
        waves += 1
    return (waves - 1) * parallel


AGENT_LABELS = {"ours": "the lab's agent (v2)", "flux": "Flux (v0)"}


def check_rows(inputs: Inputs, lead: dict) -> tuple[list[str], list[list[str]]]:
    """The model against what the lab measured: three clusters, each interval and agent."""
    header = ["agent", "every", "model", "measured (median)"]
    return header, [
        [AGENT_LABELS[agent], f"{interval:g} s", duration(model), duration(measured)]
        for agent, interval, model, measured in _checks(inputs, lead)
    ]


def _checks(inputs: Inputs, lead: dict) -> list[tuple[str, float, float, float]]:
    found = []
    clusters = lead["parameters"]["clusters"]
    for row in lead["summary"]:
        name = row["series"]
        if "polling every" not in name:
            continue
        agent = "flux" if "Flux" in name else "ours"
        interval = float(name.rsplit("every ", 1)[1].split()[0])
        model = predict(inputs, clusters, interval, 1, agent).pull_seconds
        found.append((agent, interval, model, row["median"]))
    return found


_AS_RESULT: dict[tuple[Path, tuple[bytes, ...]], dict] = {}


def as_result(folder: Path) -> dict:
    """What the model says, as a result the site's pages can quote (`#!lab scaling:...`):
    worked out once per content of the results it reads (pages quote it dozens of times)."""
    read = ("polling-load", *PROVIDERS.values())
    key = (folder, tuple(load_result(folder, name)[1] for name in read))
    if key not in _AS_RESULT:
        _AS_RESULT.clear()  # one version at a time: `serve` rebuilds after an edit
        _AS_RESULT[key] = _as_result(folder)
    return _AS_RESULT[key]


def _as_result(folder: Path) -> dict:
    inputs = model_inputs(folder)
    rows = []
    for provider, model in inputs.items():
        for interval in INTERVALS:
            rows.append({"series": f"crossover, {provider}, every {interval:g} s",
                         "clusters": crossover(model, interval)})  # fmt: skip
        lead, _ = load_result(folder, PROVIDERS[provider])
        gaps = [(m - measured) / measured * 100 for _, _, m, measured in _checks(model, lead)]
        rows.append({"series": f"check, {provider}", "most_above_percent": max(gaps),
                     "most_below_percent": -min(gaps)})  # fmt: skip
        rows.append({
            "series": f"inputs, {provider}", "apply_seconds": model.apply_seconds["ours"],
            "push_seconds": model.push_seconds, "build_seconds": model.build_seconds,
            "pipeline_seconds": model.pipeline_seconds, "parallel": model.parallel,
        })  # fmt: skip
    model = inputs["kwok"]
    for agent in AGENTS:
        for interval in INTERVALS:
            for fleet in FLEETS:
                p = predict(model, fleet, interval, 1000, agent)
                rows.append({"series": f"{agent}, {fleet} clusters, every {interval:g} s",
                             "requests_per_minute": p.requests_per_minute,
                             "bytes_per_minute": p.bytes_per_minute,
                             "git_cores": p.git_cores})  # fmt: skip
    return {"experiment": "scaling", "summary": rows, "_target": "lab/#lab-scaling",
            "_name": "the fleet model"}  # fmt: skip


def assumptions_html(inputs: dict[str, Inputs]) -> str:
    """What the model assumes, with the measured values it takes: shown beside its answers."""
    kind, kwok = inputs["kind"], inputs["kwok"]
    items = [
        "polls are spread evenly over the interval (agents add jitter), so the git server sees"
        " clusters divided by interval requests a second;",
        "an idle poll costs the git server what it cost the lab at its busiest step, plus what"
        " each extra ref added for the old protocol; cost grows in a straight line, with no"
        f" saturation (the lab sent at most {charts.number(kwok.measured_rate)} a second);",
        "a commit reaches every cluster when the last agent has polled: interval x N / (N + 1),"
        " then the agent's own apply, its webhook time;",
        f"push deploys to as many clusters at once as the lab's pipeline did ({kind.parallel}),"
        " unless you say more; each wave takes one cluster's apply"
        f" ({duration(kind.wave_seconds)} on kind, {duration(kwok.wave_seconds)} on kwok), and"
        f" the pipeline's own steps add {duration(kind.pipeline_seconds)} on kind and"
        f" {duration(kwok.pipeline_seconds)} on kwok, once;",
        "Flux ran on kwok only: on kind its apply time is taken as the lab's agent's.",
    ]
    body = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f'<div class="scaling-assumptions"><p>The model assumes:</p><ul>{body}</ul></div>'


def calculator_html(inputs: dict[str, Inputs]) -> str:
    """The calculator's form; its script reads the inputs from the JSON beside it."""
    # Raw text inside <script>: entities are not decoded there, so only `<` is escaped (as
    # JSON's own \u003c), which is all that could end the element early.
    data = json.dumps({k: asdict(v) for k, v in inputs.items()}).replace("<", "\\u003c")
    choices = "".join(
        f'<option value="{html.escape(k)}">{html.escape(PROVIDER_LABELS[k])}</option>'
        for k in inputs
    )
    parallel = inputs["kind"].parallel
    return f"""<form class="scaling-calculator" aria-label="Scaling calculator" onsubmit="return false">
<script type="application/json" class="scaling-inputs">{data}</script>
<label>Clusters <input type="number" name="fleet" min="1" max="1000000" step="1" value="1000" inputmode="numeric"></label>
<label>Poll every (s) <input type="number" name="interval" min="1" max="86400" value="60" inputmode="decimal"></label>
<label>Refs in the repository <input type="number" name="refs" min="1" max="1000000" step="1" value="100" inputmode="numeric"></label>
<label>Agent <select name="agent"><option value="ours">the lab's agent (git v2)</option><option value="flux">Flux (git v0)</option></select></label>
<label>Push deploys to <input type="number" name="parallel" min="1" max="10000" step="1" value="{parallel}" inputmode="numeric"> clusters at once</label>
<label>Apply and push times <select name="provider">{choices}</select></label>
<output name="result" aria-live="polite"><noscript>The calculator needs JavaScript; the tables above have the same model's answers.</noscript></output>
</form>"""  # noqa: E501


def _folded(summary: str, body: str) -> str:
    return f'<details class="lab-numbers"><summary>{html.escape(summary)}</summary>{body}</details>'


@loud("lab-scaling")
def format_scaling(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter of the `lab-scaling` fence (empty): the calculator with what it
    assumes beside it, then, folded, the model's predictions and the model against the
    measurements."""
    if src.strip():
        raise ResultFenceError("a lab-scaling fence takes nothing inside it: leave it empty")
    folder = results_dir()
    inputs = model_inputs(folder)
    kwok = inputs["kwok"]
    note = (
        f"Load with 1,000 refs in the repository; cores like this machine's. * More requests"
        f" a second than the lab sent ({charts.number(kwok.measured_rate)}): there the"
        " straight line is a guess, and a real server saturates somewhere beyond."
    )
    tables = [f'{table_html(*load_rows(kwok))}<p class="scaling-note">{html.escape(note)}</p>']
    for provider, model in inputs.items():
        lead, _ = load_result(folder, PROVIDERS[provider])
        clusters = lead["parameters"]["clusters"]
        tables += [
            f"<p>Lead time, {html.escape(PROVIDER_LABELS[provider])}: apply"
            f" {html.escape(duration(model.apply_seconds['ours']))} (the lab's agent woken by"
            f" the webhook), the pipeline's own steps"
            f" {html.escape(duration(model.pipeline_seconds))}.</p>",
            table_html(*lead_rows(model)),
            f"<p>The model against the lab's own runs on {html.escape(provider)}"
            f" ({clusters} clusters, polling):</p>",
            table_html(*check_rows(model, lead)),
        ]
    return (
        '<div class="lab-scaling" id="lab-scaling"><div class="scaling-model">'
        f"{calculator_html(inputs)}{assumptions_html(inputs)}</div>"
        f"{_folded('The model for 10 to 10,000 clusters, and against the lab', ''.join(tables))}"
        "</div>"
    )
