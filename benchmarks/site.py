"""Site benchmarks: cold build, rebuilds, per-meme render time and bytes, against the targets.

Run with `make bench`. Medians over several runs, since machines here are noisy; the table is
printed and also written to .artifacts/bench/site.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from benchmarks.report import SMOKE, runs, verdict
from generator.files import write_atomically
from generator.pipeline import MemeCache, render_bytes

ROOT = Path(__file__).resolve().parent.parent
RUNS = runs("BENCH_RUNS", 5)
# Over a plain Material build of the same pages (the memes plugin and fence taken out).
TARGETS = {"cold_over": 0.5, "rebuild_over": 0.1, "meme_ms": 20.0, "meme_kb": 80.0}

# A build in a fresh process, as `mkdocs build` runs: its wall time from start to exit and
# its peak memory (the rusage of a child is the only clean way to read a peak).
CHILD = """
import json, resource, sys, time
started = time.perf_counter()
from mkdocs.commands.build import build
from mkdocs.config import load_config
import logging
logging.getLogger("mkdocs").setLevel(logging.WARNING)
build(load_config(config_file=sys.argv[1], site_dir=sys.argv[2], strict=True))
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def copy_project(into: Path) -> Path:
    project = into / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    for folder in ("docs", "overrides", "img/templates", "includes"):
        shutil.copytree(ROOT / folder, project / folder)
    return project


def build_once(project: Path, site: Path, cache: Path):
    config = load_config(config_file=str(project / "mkdocs.yml"), site_dir=str(site), strict=True)
    config.plugins["memes"].config.cache_dir = str(cache)
    started = time.perf_counter()
    build(config)
    return time.perf_counter() - started, config.plugins["memes"]


MEME_FENCE = re.compile(r"        - name: meme\n          class: meme\n          format: .*\n")


def bench_configs(project: Path, cache: Path) -> tuple[Path, Path]:
    """mkdocs.yml with the memes plugin's cache in `cache`, and the same pages as plain
    Material builds them: no memes plugin and no meme fence (the lab's fences need neither,
    and stay). The plugin's slide decks are not made, so the links to them are not checked."""
    text = (project / "mkdocs.yml").read_text()
    if "  - memes\n" not in text or not MEME_FENCE.search(text):
        raise SystemExit("benchmarks/site.py: mkdocs.yml no longer has `- memes` and the meme"
                         " fence as this benchmark expects: update bench_configs")  # fmt: skip
    with_memes = project / "mkdocs-memes.yml"
    with_memes.write_text(text.replace("  - memes\n", f"  - memes:\n      cache_dir: {cache}\n"))
    plain = project / "mkdocs-plain.yml"
    without = MEME_FENCE.sub("", text.replace("  - memes\n", ""))
    unchecked = "\nvalidation:\n  links:\n    not_found: info\n"
    without = without.replace("\nvalidation:\n", unchecked, 1)
    plain.write_text(without)
    return with_memes, plain


def command_build(config: Path, site: Path) -> dict:
    """One build in a fresh process: {"seconds": build time, "peak_mib": peak memory}."""
    # Python as readers run it: writing and reusing bytecode (this machine's environment turns
    # that off, which would make every build compile the project's modules again while the
    # installed packages keep theirs).
    project = config.parent
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",  # the lab's fences, without the plugin:
           "LAB_RESULTS": str(project / "docs" / "lab" / "results"),
           "LAB_CHARTS_CACHE": str(project / ".cache" / "lab-charts")}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), str(site)],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        said = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"benchmarks/site.py: the build of {config.name} failed:\n{said}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_of(samples: list[dict], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def main() -> int:
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-site-") as temporary:
        work = Path(temporary)
        project = copy_project(work)

        step(f"builds in a fresh process, with memes and plain Material ({RUNS} runs each)")
        cold, warm, plain = [], [], []
        memes_config, plain_config = bench_configs(project, project / ".cache" / "warm-up")
        command_build(memes_config, work / "command-site")  # writes bytecode, as any first run
        for run in range(RUNS):
            cache = project / ".cache" / f"command-{run}"  # the plugin keeps caches inside
            memes_config, plain_config = bench_configs(project, cache)
            plain.append(command_build(plain_config, work / "plain-site"))
            cold.append(command_build(memes_config, work / "command-site"))  # empty cache
            warm.append(command_build(memes_config, work / "command-site"))  # nothing changed
        base = median_of(plain, "seconds")
        rows.append(("plain Material build (no memes)", f"{base:.2f} s", "the baseline", ""))
        for label, samples, target in (
            ("cold build (empty cache)", cold, TARGETS["cold_over"]),
            ("rebuild, no change", warm, TARGETS["rebuild_over"]),
        ):
            seconds = median_of(samples, "seconds")
            rows.append(
                (
                    f"{label}, over plain",
                    f"+{seconds - base:.2f} s ({seconds:.2f} s, {seconds / base:.2f}x)",
                    f"<= +{target} s",
                    ok(seconds - base <= target),
                )
            )
        rows.append(
            (
                "peak memory: no-change rebuild / plain",
                f"{median_of(warm, 'peak_mib'):.0f} / {median_of(plain, 'peak_mib'):.0f} MiB",
                f"{median_of(warm, 'peak_mib') / median_of(plain, 'peak_mib'):.2f}x",
                "",
            )
        )

        step(f"cold builds in process ({RUNS} runs)")
        in_process, rendered_cold = [], 0
        for run in range(RUNS):
            seconds, plugin = build_once(project, work / "site", work / f"cold-cache-{run}")
            in_process.append(seconds)
            rendered_cold = len(plugin.last_report.rendered)
        rows.append(
            (
                "cold build, in process",
                f"{statistics.median(in_process):.2f} s",
                f"{rendered_cold} memes rendered",
                "",
            )
        )

        step(f"rebuilds with no change ({RUNS} runs)")
        warm, rendered = [], []
        for _ in range(RUNS):
            seconds, plugin = build_once(project, work / "site", work / "cold-cache-0")
            warm.append(seconds)
            rendered.append(len(plugin.last_report.rendered))
        rows.append(
            (
                "rebuild, no change, in process (as `serve` does)",
                f"{statistics.median(warm):.2f} s",
                f"renders 0 (rendered {max(rendered)})",
                ok(max(rendered) == 0),
            )
        )

        step(f"rebuilds after one caption changes ({RUNS} runs)")
        post = project / "docs" / "series" / "part-4-push-or-pull.md"
        original = post.read_text()
        edited, rendered = [], []
        for run in range(RUNS):
            post.write_text(original.replace("  - The platform team\n", f"  - Team {run}\n"))
            seconds, plugin = build_once(project, work / "site", work / "cold-cache-0")
            edited.append(seconds)
            rendered.append(len(plugin.last_report.rendered))
        post.write_text(original)
        rows.append(
            (
                "rebuild, one caption changed",
                f"{statistics.median(edited):.2f} s",
                f"renders 1 (rendered {max(rendered)})",
                ok(set(rendered) == {1}),
            )
        )

        step("per-meme render time and size")
        _, plugin = build_once(project, work / "site", work / "cold-cache-0")
        memes = [m for page in plugin.planned.values() for m in page]
        per_meme: dict[str, float] = {}
        for meme in memes:
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                render_bytes(meme)
                times.append(time.perf_counter() - started)
            per_meme[meme.spec.id] = statistics.median(times) * 1000
        slowest = max(per_meme, key=per_meme.get)
        median_ms = statistics.median(per_meme.values())
        rows.append(
            (
                "per-meme render, median of memes",
                f"{median_ms:.1f} ms",
                f"<= {TARGETS['meme_ms']:.0f} ms",
                ok(median_ms <= TARGETS["meme_ms"]),
            )
        )
        rows.append(("per-meme render, slowest", f"{per_meme[slowest]:.1f} ms", slowest, ""))

        # Most of a render is WebP encoding at effort (method) 2. Effort 0 is faster but makes
        # bigger files for every reader; measured here so the trade stays visible.
        fast, fast_kb, kb = [], 0.0, 0.0
        for meme in memes:
            quick = replace(meme, encoding=replace(meme.encoding, method=0))
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                data = render_bytes(quick)
                times.append(time.perf_counter() - started)
            fast.append(statistics.median(times) * 1000)
            fast_kb += len(data) / 1000
            kb += len(render_bytes(meme)) / 1000
        rows.append(
            (
                "per-meme render at WebP effort 0 instead of 2",
                f"{statistics.median(fast):.1f} ms",
                f"files {fast_kb / kb - 1:+.0%} ({fast_kb:.0f} KB against {kb:.0f} KB)",
                "",
            )
        )

        cache = MemeCache(work / "cold-cache-0")
        sizes = {m.spec.id: cache.path(m).stat().st_size / 1000 for m in memes}
        biggest = max(sizes, key=sizes.get)
        rows.append(
            (
                "largest meme",
                f"{sizes[biggest]:.1f} KB",
                f"<= {TARGETS['meme_kb']:.0f} KB ({biggest})",
                ok(sizes[biggest] <= TARGETS["meme_kb"]),
            )
        )
        per_post = {
            page: sum(sizes[m.spec.id] for m in page_memes)
            for page, page_memes in plugin.planned.items()
        }

    table = ["| measure | result | target | |", "| --- | ---: | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    table += ["", "| page | memes | KB of memes |", "| --- | ---: | ---: |"]
    table += [
        f"| {page} | {len(plugin.planned[page])} | {kb:.1f} |"
        for page, kb in sorted(per_post.items())
    ]
    smoke = " (a smoke run: targets not judged)" if SMOKE else ""
    table += ["", f"{len(memes)} memes, {RUNS} runs each, {os.cpu_count()} cores{smoke}."]
    text = "\n".join(table) + "\n"
    print(text)
    write_atomically(ROOT / ".artifacts" / "bench" / "site.md", text.encode())
    return verdict(any(r[3] == "MISSED" for r in rows))


def ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
