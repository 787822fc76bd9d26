"""Site benchmarks: cold build, rebuilds, per-meme render time and bytes, against the targets.

Run with `make bench`. Medians over several runs, since machines here are noisy; the table is
printed and also written to .artifacts/bench/site.md.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from generator.pipeline import MemeCache, render_bytes, write_atomically

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TARGETS = {"cold": 3.0, "meme_ms": 50.0, "meme_kb": 80.0}


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def copy_project(into: Path) -> Path:
    project = into / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    for folder in ("docs", "overrides", "img/templates"):
        shutil.copytree(ROOT / folder, project / folder)
    return project


def build_once(project: Path, site: Path, cache: Path):
    config = load_config(config_file=str(project / "mkdocs.yml"), site_dir=str(site), strict=True)
    config.plugins["memes"].config.cache_dir = str(cache)
    started = time.perf_counter()
    build(config)
    return time.perf_counter() - started, config.plugins["memes"]


def cli_cold_build(project: Path, work: Path) -> float:
    """`mkdocs build` as a reader runs it, in a fresh process with an empty cache."""
    cache = work / "cli-cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    config = project / "mkdocs.yml"
    text = config.read_text().replace("  - memes\n", f"  - memes:\n      cache_dir: {cache}\n")
    bench_config = project / "mkdocs-bench.yml"
    bench_config.write_text(text)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "-f",
            str(bench_config),
            "-d",
            str(work / "cli-site"),
        ],
        check=True,
        env=env,
    )
    return time.perf_counter() - started


def main() -> int:
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-site-") as temporary:
        work = Path(temporary)
        project = copy_project(work)

        step(f"cold builds, in process and as a command ({RUNS} runs each)")
        cold, cli, rendered_cold = [], [], 0
        for run in range(RUNS):
            cache = work / f"cold-cache-{run}"
            seconds, plugin = build_once(project, work / "site", cache)
            cold.append(seconds)
            rendered_cold = len(plugin.last_report.rendered)
            cli.append(cli_cold_build(project, work))
        rows.append(
            (
                "cold build, command (`mkdocs build`)",
                f"{statistics.median(cli):.2f} s",
                f"<= {TARGETS['cold']:.0f} s",
                ok(statistics.median(cli) <= TARGETS["cold"]),
            )
        )
        rows.append(
            (
                "cold build, in process",
                f"{statistics.median(cold):.2f} s",
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
                "rebuild, no change",
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
    table += ["", f"{len(memes)} memes, {RUNS} runs each, {os.cpu_count()} cores."]
    text = "\n".join(table) + "\n"
    print(text)
    write_atomically(ROOT / ".artifacts" / "bench" / "site.md", text.encode())
    return 0 if all(r[3] != "MISSED" for r in rows) else 1


def ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
