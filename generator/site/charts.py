"""Charts of the lab's results, drawn with matplotlib as SVG text: pure functions of a result.

Readable in both colour schemes: text, axes and grid are drawn in a sentinel colour that is
then replaced by `currentColor`, so an inline chart takes the page's own text colour; series
use mid-tone colours that hold contrast on light and dark backgrounds. Output is repeatable
(no date, a fixed hash salt), so a chart is cached by the digest of its result.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable
from pathlib import Path

# Part of every chart's cache key: the drawing code itself, so a change to it draws anew.
CHARTS_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
# Each chart is drawn twice: WIDE for a desktop's column, NARROW for a phone's (site.css shows
# one or the other at 720 CSS px). Inline, an SVG scales to its column: a point of this width
# is about 1.06 CSS px in Material's 1280 px column and, NARROW, 1.15 on a 390 px phone, so at
# MIN_POINTS no text of either renders smaller than 11 CSS px where it is shown.
WIDE, NARROW = 9.0, 4.3  # inches
MIN_POINTS = 11.5
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
    "font.size": MIN_POINTS,
    "legend.fontsize": MIN_POINTS,
    "xtick.labelsize": MIN_POINTS,
    "ytick.labelsize": MIN_POINTS,
    "axes.labelsize": MIN_POINTS,
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
        # Constrained layout keeps a legend placed outside the axes (the phone's charts put it
        # below) inside the figure, where tight_layout would cut it.
        figure = pyplot.figure(figsize=(width, height), layout="constrained")
        try:
            draw(figure)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            pyplot.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or doctype inside HTML
    return text.replace(INK, "currentColor")


def _plain(axis) -> None:
    """Numbers as readers read them (1, 20, 1,000, 0.5), never powers of ten."""
    from matplotlib.ticker import FuncFormatter

    def plain(value: float, _) -> str:
        if value == 0:
            return "0"
        return f"{value:,.0f}" if abs(value) >= 1 else f"{value:.2g}"

    axis.set_major_formatter(FuncFormatter(plain))
    axis.set_minor_formatter(FuncFormatter(lambda *_: ""))


def _log(axes, which: str, values: list[float]) -> None:
    """A logarithmic axis that says so and carries ticks at 1, 2 and 5 of each decade (enough to
    read a value off it). Where a value is 0 the axis is linear below the smallest other value
    (symlog), so 0 is drawn and labelled as 0, not as some small number."""
    from matplotlib.ticker import LogLocator, SymmetricalLogLocator

    axis = axes.xaxis if which == "x" else axes.yaxis
    positive = [v for v in values if v > 0]
    if any(v == 0 for v in values) and positive:
        threshold = 10 ** math.floor(math.log10(min(positive)))
        (axes.set_xscale if which == "x" else axes.set_yscale)("symlog", linthresh=threshold)
        axis.set_major_locator(
            SymmetricalLogLocator(base=10, linthresh=threshold, subs=(1.0, 2.0, 5.0))
        )
        # Nothing measured is negative: the axis starts at 0, and leaves room above the top.
        (axes.set_xlim if which == "x" else axes.set_ylim)(0, max(positive) * 2)
    else:
        (axes.set_xscale if which == "x" else axes.set_yscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    _plain(axis)
    label = axis.get_label_text()
    axis.set_label_text(f"{label} (log scale)")


def _spread(ticks: list[float], ratio: float) -> list[float]:
    """The measured values to mark on a log axis, dropping any closer than `ratio` to the
    last one kept (250 and 300 side by side would print over each other)."""
    kept: list[float] = []
    for tick in sorted(ticks):
        if not kept or tick >= kept[-1] * ratio:
            kept.append(tick)
    return kept


def _first_samples(result: dict) -> dict[str, dict]:
    """The first sample of each series: what model and agent it is, for its colour."""
    first: dict[str, dict] = {}
    for sample in result["samples"]:
        first.setdefault(sample["series"], sample)
    return first


def lead_time(result: dict, narrow: bool = False) -> str:
    """Median lead time per series as bars, with the spread (min to max) as whiskers."""
    label = (
        "seconds, commit to running everywhere"
        if narrow
        else "seconds, commit to running in every cluster"
    )
    return _bars(result, label, narrow)


def deploy_times(result: dict, narrow: bool = False) -> str:
    """Median seconds the pipeline took per kind of target, with the spread as whiskers."""
    return _bars(result, "seconds to deploy and verify", narrow)


NARROW_LABEL = 42  # characters of a bar's name on a line of a phone's chart


def _label_lines(labels: list[str]) -> int:
    """How many lines the longest bar name takes on a phone's chart."""
    return max((len(_wrapped(label, NARROW_LABEL).splitlines()) for label in labels), default=1)


def _label_bars(axes, labels: list[str], narrow: bool) -> None:
    """Each bar's name: beside it on a wide chart; on a phone's, above it, across the width
    (a name as long as "pull (the lab's agent), polling every 60 s" would leave no room)."""
    if not narrow:
        axes.set_yticks(range(len(labels)), labels)
        return
    from matplotlib.transforms import blended_transform_factory

    along = blended_transform_factory(axes.transAxes, axes.transData)
    for y, label in enumerate(labels):
        axes.text(0, y + 0.3, _wrapped(label, NARROW_LABEL), transform=along, va="bottom",
                  ha="left", linespacing=1.1)  # fmt: skip
    axes.set_yticks([])
    axes.set_ylim(-0.5, len(labels) - 0.5 + 0.4 * _label_lines(labels))


def _row_height(labels: list[str], narrow: bool) -> float:
    """Inches per bar: a phone's bar carries its name above it, on one line or more."""
    return 0.36 + 0.26 * _label_lines(labels) if narrow else 0.48


def _value_label(axes, y: int, end: float, text: str) -> None:
    """A bar's value, a few points to the right of where its whisker ends: never on it."""
    axes.annotate(text, (end, y), xytext=(5, 0), textcoords="offset points", va="center",
                  gid=f"value-label-{y}")  # fmt: skip


def _bars(result: dict, xlabel: str, narrow: bool) -> str:
    rows = result["summary"]
    first = _first_samples(result)

    def draw(figure) -> None:
        axes = figure.add_subplot()
        labels = [row["series"] for row in rows][::-1]
        medians = [row["median"] for row in rows][::-1]
        low = [max(0, row["median"] - row["min"]) for row in rows][::-1]
        high = [max(0, row["max"] - row["median"]) for row in rows][::-1]
        colours = [_colour(first[label]) for label in labels]
        height = 0.4 if narrow else 0.7
        axes.barh(range(len(labels)), medians, height=height, color=colours)
        for y, (median, below, above) in enumerate(zip(medians, low, high, strict=True)):
            # One whisker per bar, each its own element (a test checks no label touches one).
            whisker = axes.errorbar(median, y, xerr=[[below], [above]], fmt="none", ecolor=INK,
                                    capsize=3)  # fmt: skip
            for index, part in enumerate([*whisker.lines[1], *whisker.lines[2]]):
                part.set_gid(f"error-bar-{y}-{index}")
        _label_bars(axes, labels, narrow)
        ends = [m + h for m, h in zip(medians, high, strict=True)]
        for y, (end, median) in enumerate(zip(ends, medians, strict=True)):
            _value_label(axes, y, end, f"{number(median)} s")
        axes.set_xlabel(xlabel)
        logarithmic = max(medians) / max(min(medians), 1e-3) > 20
        if logarithmic:
            _log(axes, "x", medians)
            axes.set_xlim(min(m - lo for m, lo in zip(medians, low, strict=True)) / 2,
                          max(ends) * 6)  # fmt: skip
        else:
            axes.set_xlim(0, max(ends) * (1.45 if narrow else 1.25))
        axes.grid(axis="x")

    per_row = _row_height([row["series"] for row in rows], narrow)
    return _svg(draw, NARROW if narrow else WIDE, per_row * len(rows) + 1.1)


def repairs(result: dict, narrow: bool = False) -> str:
    """How long each model took to put a cluster right; a grey, hatched bar at the full wait
    where it did not within it."""
    rows = result["summary"]
    wait = result["parameters"]["wait_seconds"]
    first = _first_samples(result)

    def draw(figure) -> None:
        axes = figure.add_subplot()
        labels = [row["series"] for row in rows][::-1]
        height = 0.4 if narrow else 0.7
        for y, row in enumerate(rows[::-1]):
            if row["repaired"]:
                axes.barh(y, row["median"], height=height, color=_colour(first[row["series"]]))
                text = f"{number(row['median'])} s ({row['repaired']} of {row['n']})"
                _value_label(axes, y, row["median"], text)
            else:
                axes.barh(y, wait, height=height, color="none", edgecolor=INK, hatch="//",
                          alpha=0.5)  # fmt: skip
                text = f"not within {wait:g} s" if narrow else f"not put right within {wait:g} s"
                _value_label(axes, y, wait, text)
        _label_bars(axes, labels, narrow)
        axes.set_xlim(0, wait * (2.1 if narrow else 1.9))
        axes.set_xlabel("seconds until it runs what git says" if narrow else
                        "seconds until the cluster runs what git says (median)")  # fmt: skip
        axes.grid(axis="x")

    per_row = _row_height([row["series"] for row in rows], narrow)
    return _svg(draw, NARROW if narrow else WIDE, per_row * len(rows) + 1.1)


SHORT_KIND = {"ours": "our agent (v2)", "flux": "Flux (v0)", "registry": "registry tags"}


def _legend(axes, narrow: bool) -> None:
    """Under the axes, where it covers no line, one entry a line (two columns of these long
    names would not fit even a desktop's width)."""
    axes.figure.legend(loc="outside lower left" if narrow else "outside lower center",
                       frameon=False)  # fmt: skip


def polling(result: dict, measure: str, narrow: bool = False) -> str:
    """One measure of the polling-load steps against the number of pollers, a line per kind
    and interval; saturated steps marked with a cross."""
    samples = [s for s in result["samples"] if "grow" not in s["series"]]
    labels = {
        "cpu_percent": ("server CPU, % of one core", "git server CPU, % of a core"),
        "bytes_per_minute": ("bytes per minute (bodies, both ways)", "bytes a minute"),
        "requests_per_minute": ("requests answered per minute", "answered a minute"),
        "latency_p95_ms": ("95th percentile latency, ms", "p95 latency, ms"),
    }

    def draw(figure) -> None:
        axes = figure.add_subplot()
        lines: dict[tuple[str, float], list[dict]] = {}
        for sample in samples:
            lines.setdefault((sample["kind"], sample["interval"]), []).append(sample)
        for (kind, interval), points in lines.items():
            points.sort(key=lambda s: s["pollers"])
            xs = [p["pollers"] for p in points]
            ys = [p[measure] for p in points]
            style = {5: "-", 60: "--"}.get(interval, ":")  # 1 s: the search for the limit
            name = SHORT_KIND.get(kind, points[0]["series"]) if narrow else points[0]["series"]
            axes.plot(xs, ys, style, marker="o", color=PALETTE[kind],
                      label=f"{name}, every {interval:g} s")  # fmt: skip
            for point in points:
                if point["saturated"]:
                    axes.plot(point["pollers"], point[measure], "x", color=INK, markersize=10)
        axes.set_xlabel("polling clients")
        axes.set_ylabel(labels[measure][1 if narrow else 0])
        values = [s[measure] for s in samples]
        positive = [v for v in values if v > 0]
        _log(axes, "x", [s["pollers"] for s in samples])
        # Ticks at the measured steps, as many as fit without touching.
        axes.set_xticks(_spread([s["pollers"] for s in samples], 2.5 if narrow else 1.6))
        if positive and max(positive) / min(positive) > 50:
            _log(axes, "y", values)
        else:
            _plain(axes.yaxis)
        axes.grid()
        _legend(axes, narrow)

    return _svg(draw, NARROW if narrow else WIDE, 6.4 if narrow else 6.2)


def refs(result: dict, narrow: bool = False) -> str:
    """Bytes of one idle poll as the repository gains refs, per kind of poller."""
    samples = [s for s in result["samples"] if "grow" in s["series"]]

    def draw(figure) -> None:
        axes = figure.add_subplot()
        kinds: dict[str, list[dict]] = {}
        for sample in samples:
            kinds.setdefault(sample["kind"], []).append(sample)
        for kind, points in kinds.items():
            points.sort(key=lambda s: s["refs"])
            name = SHORT_KIND.get(kind, points[0]["series"]) if narrow else points[0]["series"]
            axes.plot([p["refs"] for p in points], [p["bytes_per_request"] for p in points],
                      marker="o", color=PALETTE[kind], label=name)  # fmt: skip
        axes.set_xlabel("refs in the repository" if narrow else
                        "refs in the repository (branches and tags)")  # fmt: skip
        axes.set_ylabel("bytes of one idle poll")
        _log(axes, "x", [s["refs"] for s in samples])
        axes.set_xticks(_spread([s["refs"] for s in samples], 2.5 if narrow else 1.6))
        _log(axes, "y", [s["bytes_per_request"] for s in samples])
        axes.grid()
        _legend(axes, narrow)

    return _svg(draw, NARROW if narrow else WIDE, 5.0 if narrow else 4.6)


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


def _wrapped(text: str, width: int = 16) -> str:
    """`text` on lines of at most about `width` characters: labels that fit a grid's column."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


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
                          color="white" if opened else INK)  # fmt: skip
        axes.set_xlim(0, len(actions))
        axes.set_ylim(len(holders), 0)
        axes.set_xticks([x + 0.5 for x in range(len(actions))],
                        [_wrapped(a) for a in actions])  # fmt: skip
        axes.xaxis.tick_top()
        axes.set_yticks([y + 0.5 for y in range(len(holders))],
                        [_wrapped(h, 22) for h in holders])  # fmt: skip
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)

    return _svg(draw, WIDE, 1.05 * len(holders) + 1.5)


def number(value: float) -> str:
    """A figure for people: three significant digits, thousands separated."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def with_label(svg: str, label: str) -> str:
    """The chart as an image with its alt text, for inline use (`label` already escaped)."""
    return re.sub(r"<svg\b", f'<svg role="img" aria-label="{label}"', svg, count=1)


def unique_ids(svg: str, prefix: str) -> str:
    """The SVG with every id (and every reference to one) prefixed: matplotlib numbers its
    ids per figure (`patch_1`, `axes_1`, clip paths), so two charts on a page would share
    them, and an inline chart's `url(#...)` could pick up another chart's clip path."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)

    def reference(match: re.Match) -> str:
        name = match.group(2)
        return f"{match.group(1)}#{prefix}-{name}" if name in ids else match.group(0)

    return re.sub(r'(href="|url\()#([^")]+)', reference, svg)
