"""Charts of the lab's results, drawn with matplotlib as SVG text: pure functions of a result.

Readable in both colour schemes: text, axes and grid are drawn in a sentinel colour that is
then replaced by `currentColor`, so an inline chart takes the page's own text colour; series
use mid-tone colours that hold contrast on light and dark backgrounds. Output is repeatable
(no date, a fixed hash salt), so a chart is cached by the digest of its result.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable

CHARTS_VERSION = "4"  # part of every chart's cache key: bump it when drawing changes
INK = "#010203"  # the sentinel: becomes currentColor
PALETTE = {
    "push": "#2f7fd1",
    "ours": "#d9822b",
    "flux": "#2e9e6a",
    "registry": "#a45ec9",
    "kubernetes": "#2f7fd1",
    "docker": "#a45ec9",
    "run": "#7a8591",
}
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "tell-it-with-a-meme",
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "grid.color": INK,
    "grid.alpha": 0.2,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _colour(sample: dict) -> str:
    if sample.get("model") == "push":
        return PALETTE["push"]
    return PALETTE.get(sample.get("agent") or sample.get("kind", ""), PALETTE["ours"])


def _svg(draw: Callable, width: float, height: float) -> str:
    import matplotlib

    matplotlib.use("svg")
    from matplotlib import pyplot

    with matplotlib.rc_context(STYLE):
        figure = pyplot.figure(figsize=(width, height))
        try:
            draw(figure)
            figure.tight_layout()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            pyplot.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or doctype inside HTML
    return text.replace(INK, "currentColor")


def _plain(*axes_list) -> None:
    """Log axes labelled 1, 10, 1,000 rather than powers of ten: readers read numbers."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")
    for axis in axes_list:
        axis.set_major_formatter(formatter)


def _first_samples(result: dict) -> dict[str, dict]:
    """The first sample of each series: what model and agent it is, for its colour."""
    first: dict[str, dict] = {}
    for sample in result["samples"]:
        first.setdefault(sample["series"], sample)
    return first


def lead_time(result: dict) -> str:
    """Median lead time per series as bars, with the spread (min to max) as whiskers."""
    return _bars(result, "seconds from commit to running in every cluster (median, min to max)")


def deploy_times(result: dict) -> str:
    """Median seconds the pipeline took per kind of target, with the spread as whiskers."""
    return _bars(result, "seconds to deploy and verify (median, min to max)")


def _bars(result: dict, xlabel: str) -> str:
    rows = result["summary"]
    first = _first_samples(result)

    def draw(figure) -> None:
        axes = figure.add_subplot()
        labels = [row["series"] for row in rows][::-1]
        medians = [row["median"] for row in rows][::-1]
        low = [max(0, row["median"] - row["min"]) for row in rows][::-1]
        high = [max(0, row["max"] - row["median"]) for row in rows][::-1]
        colours = [_colour(first[label]) for label in labels]
        axes.barh(labels, medians, color=colours, xerr=[low, high], ecolor=INK, capsize=3)
        for y, (value, above) in enumerate(zip(medians, high, strict=True)):
            axes.annotate(f"  {value:.2g} s", (value + above, y), va="center", fontsize=9)
        if max(medians) / max(min(medians), 1e-3) > 20:
            axes.set_xscale("log")
            _plain(axes.xaxis)
        axes.set_xlabel(xlabel)
        axes.grid(axis="x")

    return _svg(draw, 9, 0.45 * len(rows) + 1.4)


def repairs(result: dict) -> str:
    """How long each model took to put a cluster right; a grey, hatched bar at the full wait
    where it did not within it."""
    rows = result["summary"]
    wait = result["parameters"]["wait_seconds"]
    first = _first_samples(result)

    def draw(figure) -> None:
        axes = figure.add_subplot()
        labels = [row["series"] for row in rows][::-1]
        for y, row in enumerate(rows[::-1]):
            if row["repaired"]:
                axes.barh(y, row["median"], color=_colour(first[row["series"]]))
                text = f"  {row['median']:.2g} s ({row['repaired']} of {row['n']})"
                axes.annotate(text, (row["median"], y), va="center", fontsize=9)
            else:
                axes.barh(y, wait, color="none", edgecolor=INK, hatch="//", alpha=0.5)
                axes.annotate(f"  not put right within {wait:g} s", (wait, y), va="center",
                              fontsize=9)  # fmt: skip
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlim(0, wait * 1.6)
        axes.set_xlabel("seconds until the cluster runs what git says (median)")
        axes.grid(axis="x")

    return _svg(draw, 9, 0.45 * len(rows) + 1.4)


def polling(result: dict, measure: str) -> str:
    """One measure of the polling-load steps against the number of pollers, a line per kind
    and interval; saturated steps marked with a cross."""
    samples = [s for s in result["samples"] if "grow" not in s["series"]]
    labels = {
        "cpu_percent": "server CPU, % of one core",
        "bytes_per_minute": "bytes per minute (bodies, both ways)",
        "requests_per_minute": "requests answered per minute",
        "latency_p95_ms": "95th percentile latency, ms",
    }

    def draw(figure) -> None:
        axes = figure.add_subplot()
        lines: dict[tuple[str, float], list[dict]] = {}
        for sample in samples:
            lines.setdefault((sample["kind"], sample["interval"]), []).append(sample)
        for (kind, interval), points in lines.items():
            points.sort(key=lambda s: s["pollers"])
            xs = [p["pollers"] for p in points]
            ys = [max(p[measure], 1e-3) for p in points]
            style = {5: "-", 60: "--"}.get(interval, ":")  # 1 s: the search for the limit
            axes.plot(xs, ys, style, marker="o", color=PALETTE[kind],
                      label=f"{points[0]['series']}, every {interval:g} s")  # fmt: skip
            for point in points:
                if point["saturated"]:
                    axes.plot(point["pollers"], max(point[measure], 1e-3), "x", color=INK,
                              markersize=10)  # fmt: skip
        axes.set_xscale("log")
        values = [s[measure] for s in samples if s[measure] > 0]
        if values and max(values) / min(values) > 50:
            axes.set_yscale("log")
        _plain(axes.xaxis, axes.yaxis)
        axes.set_xlabel("polling clients")
        axes.set_ylabel(labels[measure])
        axes.grid()
        axes.legend(fontsize=8, frameon=False)

    return _svg(draw, 9, 4.6)


def refs(result: dict) -> str:
    """Bytes of one idle poll as the repository gains refs, per kind of poller."""
    samples = [s for s in result["samples"] if "grow" in s["series"]]

    def draw(figure) -> None:
        axes = figure.add_subplot()
        kinds: dict[str, list[dict]] = {}
        for sample in samples:
            kinds.setdefault(sample["kind"], []).append(sample)
        for kind, points in kinds.items():
            points.sort(key=lambda s: s["refs"])
            axes.plot([p["refs"] for p in points], [p["bytes_per_request"] for p in points],
                      marker="o", color=PALETTE[kind], label=points[0]["series"])  # fmt: skip
        axes.set_xscale("log")
        axes.set_yscale("log")
        _plain(axes.xaxis, axes.yaxis)
        axes.set_xlabel("refs in the repository (branches and tags)")
        axes.set_ylabel("bytes of one idle poll")
        axes.grid()
        axes.legend(fontsize=8, frameon=False)

    return _svg(draw, 9, 4.2)


def access_cells(result: dict) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Holders, actions and, for each pair, what the lab answered: "3 of 3 clusters" for the
    change tried in every cluster, else "allowed" or "refused (403)"."""
    holders = list(dict.fromkeys(s["series"] for s in result["samples"]))
    actions = list(dict.fromkeys(s["action"] for s in result["samples"]))
    cells = {}
    for holder in holders:
        for action in actions:
            tried = [s for s in result["samples"] if (s["series"], s["action"]) == (holder, action)]
            allowed = sum(s["allowed"] for s in tried)
            if len(tried) > 1:
                cells[holder, action] = f"{allowed} of {len(tried)} clusters"
            elif allowed:
                cells[holder, action] = "allowed"
            else:
                cells[holder, action] = f"refused ({tried[0]['status']})" if tried else ""
    return holders, actions, cells


def _two_lines(text: str) -> str:
    """`text` broken at the space nearest its middle: labels that fit a narrow column."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    middle = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:middle] + "\n" + text[middle + 1 :]


def access(result: dict) -> str:
    """A grid of who could do what: a filled cell where a stolen credential was allowed, an
    outlined one where the lab refused it; the words say it too, not only the colour."""
    holders, actions, cells = access_cells(result)

    def draw(figure) -> None:
        from matplotlib.patches import Rectangle

        axes = figure.add_subplot()
        for y, holder in enumerate(holders):
            for x, action in enumerate(actions):
                text = cells[holder, action]
                opened = not text.startswith(("refused", "0 of"))
                axes.add_patch(Rectangle((x + 0.04, y + 0.08), 0.92, 0.84, linewidth=1,
                                         edgecolor=INK if not opened else "none",
                                         facecolor="#b52b27" if opened else "none",
                                         alpha=1 if opened else 0.5))  # fmt: skip
                text = text.replace(" (", "\n(").replace(" clusters", "\nclusters")
                axes.text(x + 0.5, y + 0.5, text, ha="center", va="center",
                          fontsize=11, color="white" if opened else INK)  # fmt: skip
        axes.set_xlim(0, len(actions))
        axes.set_ylim(len(holders), 0)
        axes.set_xticks([x + 0.5 for x in range(len(actions))],
                        [_two_lines(a) for a in actions], fontsize=10)  # fmt: skip
        axes.xaxis.tick_top()
        axes.set_yticks([y + 0.5 for y in range(len(holders))],
                        [_two_lines(h) for h in holders], fontsize=10)  # fmt: skip
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)

    return _svg(draw, 9, 0.95 * len(holders) + 1.4)


def number(value: float) -> str:
    """A figure for people: three significant digits, thousands separated."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def with_label(svg: str, label: str) -> str:
    """The chart as an image with its alt text, for inline use (`label` already escaped)."""
    return re.sub(r"<svg\b", f'<svg role="img" aria-label="{label}"', svg, count=1)
