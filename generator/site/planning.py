"""A whole site's memes planned from its pages, before any builder writes anything.

Shared by the MkDocs plugin and the Zensical build, so that both stop on the same mistakes with
the same messages, naming files as authors see them (from the project's root).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..declarations import find_blocks
from ..errors import Location, MemeError, MemeErrors
from ..fonts import FONT_FILES, licences
from ..pipeline import PlannedMeme, plan_posts
from ..plans import PlanStore
from ..render import Encoding
from ..templates import TemplateLibrary
from . import fences, numbers
from .fence import Placements
from .figure import Figure
from .series import (
    Entry,
    check_front_matter,
    check_series,
    entry_from_meta,
    read_front_matter,
)


@dataclass(frozen=True)
class SitePlan:
    planned: dict[str, list[PlannedMeme]]  # page (its path under docs/) -> memes, in page order
    entries: list[Entry]  # the series' posts
    hidden: dict[str, list[str]] = field(default_factory=dict)  # page -> bodies in comments


# C0 controls but tab, newline and carriage return, DEL and C1 controls: no page shows them,
# and HTML forbids most (a NUL, an escape sequence pasted from a terminal).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_characters(text: str, shown: str) -> list[MemeError]:
    """One error per line of the page that holds a control character."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        found = CONTROL.search(line)
        if found:
            problems.append(MemeError(
                Location(shown, number),
                f"column {found.start() + 1} holds the control character"
                f" U+{ord(found.group()):04X}, which no page can show",
                "delete it (it often comes with text pasted from a terminal)",
            ))  # fmt: skip
    return problems


def shown_path(path: Path, root: Path) -> Path:
    """`path` as an author sees it: from the project's root when it is inside."""
    return path.relative_to(root) if path.is_relative_to(root) else path


def plan_site(
    root: Path,
    docs: Path,
    pages: Iterable[str],
    templates: Path,
    encoding: Encoding,
    cache: Path | None = None,
    on_planned: Callable[[PlannedMeme], None] | None = None,
    results: Path | None = None,
) -> SitePlan:
    """Plan the memes of `pages` (paths under `docs`); MemeErrors gathers every mistake,
    the pages' references to the lab's results (in `results`) among them.

    With a `cache` folder, layouts planned by an earlier build from the same inputs are reused
    (kept in its plans file, written only when the whole site planned cleanly)."""
    shown_docs = shown_path(docs, root)
    posts, entries, problems, by_shown = [], [], [], {}
    for page in pages:
        shown = (shown_docs / page).as_posix()
        try:
            text = (docs / page).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            problem = error.strerror if isinstance(error, OSError) else str(error)
            problems.append(MemeError(Location(shown), f"cannot read the page: {problem}"))
            continue
        by_shown[shown] = page
        posts.append((shown, text))
        problems += control_characters(text, shown)
        problems += [
            MemeError(Location(shown, line), problem)
            for line, problem in numbers.check_page(text, results or docs / "lab" / "results")
        ]
        meta, unread = read_front_matter(shown, text)
        problems += unread
        problems += fences.check_page(text, shown)
        problems += check_front_matter(shown, meta)
        try:
            entry = entry_from_meta(page, meta)
        except MemeError as error:  # named from the docs folder: name it as the author sees it
            where = Location(shown, error.where.line, error.where.field)
            problems.append(MemeError(where, error.problem, error.fix))
            continue
        if entry:
            entries.append(entry)
    problems += check_series(entries, f"{shown_docs.as_posix()}/")
    plans = PlanStore(cache) if cache is not None else None  # before the templates: it
    library = TemplateLibrary(templates, shown=shown_path(templates, root))  # knows their art
    problems += library.problems()
    if problems:
        raise MemeErrors(problems)
    planned = plan_posts(posts, library, encoding, plans, on_planned)
    if plans is not None:
        plans.save([library.get(name) for name in library.names()])
    hidden = {by_shown[shown]: hidden_memes(text, shown) for shown, text in posts}
    return SitePlan(
        {by_shown[shown]: memes for shown, memes in planned.items()},
        entries,
        {page: bodies for page, bodies in hidden.items() if bodies},
    )


def image_uri(output_dir: str, page: str, meme: PlannedMeme) -> str:
    """Where a meme is published, from the site's root: one folder per page."""
    return f"{output_dir}/{PurePosixPath(page).with_suffix('').as_posix()}/{meme.file_name}"


def placements(plan: SitePlan, output_dir: str) -> Placements:
    return Placements(
        {
            page: [Figure.of(meme, image_uri(output_dir, page, meme)) for meme in memes]
            for page, memes in plan.planned.items()
        },
        hidden=plan.hidden,
    )


NAME_MAX, PATH_MAX = 255, 4096  # bytes: a file name, and a whole path (Linux's limits)


def output_problems(plan: SitePlan, output_dir: str, docs: Path, site: Path) -> list[MemeError]:
    """Where the memes are published must be writable: no part of the path is a page's file
    (MkDocs copies docs/ into the site), and no name or path is too long for the file system.
    Checked before anything is written, each error naming the meme."""
    problems = []
    for page, memes in plan.planned.items():
        for meme in memes:
            uri = image_uri(output_dir, page, meme)
            parts = PurePosixPath(uri).parts
            where = meme.spec.where("id")
            too_long = (
                max(len(part.encode()) for part in parts) > NAME_MAX
                or len(str(site / uri).encode()) > PATH_MAX - 64
            )
            taken = None if too_long else next((
                "/".join(parts[:n]) for n in range(1, len(parts))
                if _is_file(docs / "/".join(parts[:n]))
            ), None)  # fmt: skip
            if too_long:
                problems.append(MemeError(
                    where, f"meme {meme.spec.id!r} would be published as {uri[:80]}..., a path too"
                    " long for the file system", "shorten the page's file name or folders",
                ))  # fmt: skip
            elif taken is not None:
                problems.append(MemeError(
                    where, f"meme {meme.spec.id!r} is published under {uri}, but {taken} is a"
                    " file of docs/", "rename that file, or set the plugin's output_dir",
                ))  # fmt: skip
    return problems


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system is no file
        return False


def hidden_memes(text: str, shown: str) -> list[str]:
    """The bodies (spaces folded) of the page's meme blocks that HTML comments hide."""
    try:
        blocks = find_blocks(text, shown, hidden=True)
    except MemeError:
        return []  # the page's own planning reports it
    return [" ".join(block.body.split()) for block in blocks if block.hidden]


def font_licences(memes: Iterable[PlannedMeme]) -> list[tuple[str, Path]]:
    """(name beside the memes, file) of the licence of every font the memes are set in."""
    used = {FONT_FILES[box.font] for meme in memes for box in meme.template.boxes}
    used |= {
        piece.source
        for meme in memes
        for caption in meme.captions
        for line in caption.lines
        for piece in line.pieces
    }
    return licences(used)
