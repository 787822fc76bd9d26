"""`python -m generator.site.zensical`: build the site with Zensical, Material's successor.

Zensical runs no MkDocs plugins but does run Python-Markdown extensions, so the memes go in
three steps: plan and render every meme first (a mistake stops everything before any output,
as under MkDocs), build with Zensical (whose superfences calls the same `meme` fence, reading
the placements written here), then publish the rendered images into the built site.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.config import load_config
from mkdocs.exceptions import ConfigurationError
from mkdocs.structure.files import InclusionLevel, get_files

from ..errors import MemeError, MemeErrors
from ..files import write_atomically
from ..pipeline import Drawing, MemeCache
from ..render import Encoding
from .fence import PLACEMENTS_ENV, PLACEMENTS_FILE
from .lastgood import LastGood
from .planning import font_licences, image_uri, output_problems, placements, plan_site
from .results import RESULTS_ENV, configure
from .slides import deck_uri, site_decks


def _say(message: str) -> None:
    print(f"memes: {message}", flush=True)


def _zensical(
    config_file: Path, root: Path, placements_file: Path, cache: Path, strict: bool,
    lab_results: Path,
) -> int:  # fmt: skip
    """Run `zensical build --clean`, keeping the memes' cache out of its reach.

    --clean because Zensical caches pages by their text, which does not change when a
    template's art does; but it cleans all of .cache/, where the memes' cache lives by default,
    so that folder waits beside the placements meanwhile (a cache: losing it costs a render).
    """
    aside = placements_file.parent / "cache"
    protect = cache.is_dir() and cache.is_relative_to(root / ".cache")
    if protect:
        shutil.move(cache, aside)
    try:
        command = [sys.executable, "-m", "zensical", "build", "--clean", "-f", str(config_file)]
        environment = {**os.environ, PLACEMENTS_ENV: str(placements_file),
                       RESULTS_ENV: str(lab_results)}  # fmt: skip
        with subprocess.Popen(
            [*command, *(["--strict"] if strict else [])], cwd=root, env=environment,
            stderr=subprocess.PIPE, text=True, errors="replace",
        ) as process:  # fmt: skip
            _relay(process.stderr)
        code = process.returncode
    finally:
        if protect:
            cache.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(aside, cache)
    return code


def _relay(stream) -> None:
    """Zensical's messages, as it prints them, but its tracebacks: a strict build that stops
    on warnings raises, and an author needs the warnings above and one line, not the stack."""
    in_traceback = False
    for line in stream:
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and not line.startswith((" ", "\t")):
            in_traceback = False
            print(f"error: zensical stopped: {line.partition(': ')[2].strip() or line.strip()}",
                  file=sys.stderr, flush=True)  # fmt: skip
        elif not in_traceback:
            sys.stderr.write(line)
            sys.stderr.flush()


def _unplaced(planned: dict[str, list], built: dict[str, Path]) -> list[str]:
    """Planned memes whose figure is not in the built page: Markdown did not read their block
    as a fence (under MkDocs the plugin checks this per page; Zensical runs no plugin)."""
    problems = []
    for page, memes in planned.items():
        html = built[page].read_text(encoding="utf-8") if built[page].is_file() else ""
        problems += [
            f"{meme.spec.source}:{meme.spec.line}: meme '{meme.spec.id}' was found but Markdown"
            " did not read it as a fence; indent the fence as the text around it"
            for meme in memes
            if f'<figure class="meme" id="meme-{meme.spec.id}">' not in html
        ]
    return problems


def build(config_file: Path, strict: bool = True) -> int:
    """Plan, render, build and publish; 0 when the site is built, 2 on an author's mistake."""
    started = time.perf_counter()
    try:
        # MkDocs' loader checks the memes plugin's options exactly as a MkDocs build would.
        config = load_config(config_file=str(config_file))
    except ConfigurationError as error:
        print(f"error: {config_file}: {error}", file=sys.stderr)
        return 2
    options = config.plugins["memes"].config
    root = config_file.resolve().parent
    lab_results = Path(os.environ.get(RESULTS_ENV) or Path(config.docs_dir) / "lab" / "results")
    # The site's fences are drawn once before the build (planning.plan_site): from here.
    configure(lab_results, root / ".cache" / "lab-charts")
    documents = get_files(config).documentation_pages(inclusion=InclusionLevel.is_included)
    pages = [f.src_uri for f in documents]
    encoding = Encoding(format=options.format, quality=options.quality)
    templates = (root / options.templates_dir).resolve()
    cache = MemeCache((root / options.cache_dir).resolve())
    drawing = Drawing(cache)
    try:
        plan = plan_site(
            root, Path(config.docs_dir), pages, templates, encoding, cache.folder, drawing,
            results=lab_results,
        )  # fmt: skip
        unwritable = output_problems(plan, options.output_dir, Path(config.docs_dir),
                                     Path(config.site_dir))  # fmt: skip
        if unwritable:
            raise MemeErrors(unwritable)
    except (MemeError, MemeErrors) as error:
        drawing.cancel()
        print(f"error: {error}", file=sys.stderr)
        return 2
    memes = [meme for page in plan.planned.values() for meme in page]
    try:
        report = cache.ensure(memes, progress=_say, drawn=drawing)
    finally:
        drawing.close()
    _say(f"{len(report.rendered)} rendered, {len(report.reused)} from the cache")
    last_good = LastGood(Path(config.site_dir))
    last_good.set_aside()  # Zensical builds with --clean
    try:
        code = _publish(config, plan, cache, documents, strict=strict, lab_results=lab_results)
    except BaseException:
        last_good.restore()
        raise
    if code != 0:
        last_good.restore()
        return code
    last_good.discard()
    _say(f"{len(memes)} published into {Path(config.site_dir).name}/"
         f" ({time.perf_counter() - started:.2f} s)")  # fmt: skip
    return 0


def _publish(config, plan, cache: MemeCache, documents, *, strict: bool, lab_results: Path) -> int:
    """Zensical's build, then the memes, their fonts' licences and the decks beside it."""
    config_file = Path(config.config_file_path)
    root = config_file.resolve().parent
    options = config.plugins["memes"].config
    memes = [meme for page in plan.planned.values() for meme in page]
    built = {f.src_uri: Path(f.abs_dest_path) for f in documents}
    placed = placements(plan, options.output_dir).to_json().encode()
    with tempfile.TemporaryDirectory(prefix="memes-") as scratch:
        placements_file = Path(scratch) / PLACEMENTS_FILE
        write_atomically(placements_file, placed)
        code = _zensical(config_file, root, placements_file, cache.folder, strict, lab_results)
    if code != 0:
        return code

    unplaced = _unplaced(plan.planned, built)
    if unplaced:
        print("\n".join(f"error: {problem}" for problem in unplaced), file=sys.stderr)
        return 2
    site = Path(config.site_dir)
    for page, page_memes in plan.planned.items():
        for meme in page_memes:
            target = site / image_uri(options.output_dir, page, meme)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cache.path(meme), target)
    for name, path in font_licences(memes):
        shutil.copyfile(path, site / options.output_dir / name)
    urls = {f.src_uri: f.url for f in documents}
    figures = placements(plan, options.output_dir).pages
    decks = site_decks(plan.entries, figures, plan.planned, Path(config.docs_dir), urls,
                       config.site_name)  # fmt: skip
    for page, html in decks.items():
        write_atomically(site / deck_uri(page), html.encode())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.site.zensical", description=__doc__)
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"))
    parser.add_argument("--no-strict", action="store_true", help="do not stop on warnings")
    args = parser.parse_args(argv)
    return build(args.config_file, strict=not args.no_strict)


if __name__ == "__main__":
    sys.exit(main())
