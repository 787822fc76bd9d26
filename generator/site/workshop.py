"""The facilitator's page: the `workshop-room` fence of pymdownx.superfences.

    ```workshop-room
    show: requirements | agenda | steps | problems | reset
    ```

Reads what the lab wrote (the site never imports it): docs/workshop/room.json (`python -m
demo room`: doctor's needs and fixes, the steps attendees type) and the lab's recording of
`make demo PROVIDER=kind` (docs/lab/recordings/demo-kind.cast), whose timings give each lab
step its measured length; the agenda is built from those and the number of memes per part.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.utils.meta import get_data

from .fences import loud
from .results import (
    ResultFenceError,
    fence_yaml,
    not_a_number,
    read_inside,
    results_dir,
    table_html,
)
from .series import entry_from_meta

SHOWS = ("requirements", "agenda", "steps", "problems", "reset")
MARKERS = {  # the tour's own words where each step starts and ends, in its recording
    "up": (None, "The lab is up"),
    "push": ("1/3 push", "2/3 pull"),
    "pull": ("2/3 pull", "3/3 drift"),
    "drift": ("3/3 drift", "What happened"),
}
SECONDS_PER_MEME = 120  # a slide talked through, with a question
TALK_OVERHEAD = 180  # per step: what it shows, said out loud, before anyone types
WORKSHOP_MINUTES = 90


@dataclass(frozen=True)
class Slot:
    start: int  # minutes from the start
    minutes: int
    what: str
    basis: str


def _folder() -> Path:
    """The docs folder: where the lab's results are configured to be, two folders up."""
    return results_dir().parent.parent


ROOM_FIELDS = {  # what each list of room.json holds, each item a mapping of these strings
    "requirements": ("need", "fix"),
    "problems": ("check", "fix"),
    "steps": ("title", "command", "shows"),
}


def load_room(docs: Path) -> dict:
    """room.json (written by `python -m demo room`), every field the page prints checked."""
    folder = docs / "workshop"
    path = folder / "room.json"
    remedy = "run `python -m demo room`"
    try:
        room = json.loads(read_inside(path, folder, remedy))
    except ValueError as error:
        raise ResultFenceError(f"{path} is not JSON ({error}): {remedy}") from None
    if not isinstance(room, dict):
        raise ResultFenceError(f"{path} must hold one JSON object: {remedy}")
    if not isinstance(room.get("reset"), list) or not all(
        isinstance(line, str) for line in room["reset"]
    ):
        raise ResultFenceError(f"{path}: 'reset' must be a list of commands: {remedy}")
    for key, fields in ROOM_FIELDS.items():
        items = room.get(key)
        if not isinstance(items, list):
            raise ResultFenceError(f"{path}: '{key}' must be a list: {remedy}")
        for number, item in enumerate(items, 1):
            missing = [f for f in fields if not isinstance(item, dict) or
                       not isinstance(item.get(f), str)]  # fmt: skip
            if missing:
                raise ResultFenceError(
                    f"{path}: {key} item {number} needs the text fields {missing}: {remedy}"
                )
    return room


@functools.lru_cache(maxsize=2)  # the page's fences read the same recording several times
def step_seconds(cast: str, shown: str = "the recording") -> dict[str, float]:
    """Each step's length in a recording of the tour: from its start marker to the next."""
    plain = ""
    times: list[tuple[int, float]] = []  # (offset into the plain text, time of that event)
    for number, line in enumerate(cast.splitlines()[1:], 2):
        if not line.strip():
            continue
        try:
            moment, _, text = json.loads(line, parse_constant=not_a_number)
            if not isinstance(text, str) or not 0 <= moment < 86_400:
                raise ValueError("expected [seconds from 0 to a day, kind, text]")
        except (ValueError, TypeError) as error:
            raise ResultFenceError(
                f"{shown}:{number} is not an event of an asciicast ({error}): record it again"
            ) from None
        times.append((len(plain), moment))
        plain += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)

    def at(marker: str | None) -> float:
        if marker is None:
            return 0.0
        index = plain.find(marker)
        if index < 0:
            raise ResultFenceError(f"{shown} has no {marker!r}: record it again")
        return max(t for offset, t in times if offset <= index)

    return {step: round(at(end) - at(start), 1) for step, (start, end) in MARKERS.items()}


def _round5(seconds: float) -> int:
    return max(5, 5 * math.ceil(seconds / 300))


def agenda(parts: list[tuple[int, str, int]], seconds: dict[str, float]) -> list[Slot]:
    """A workshop from the parts (number, title, memes) and the lab steps' measured seconds:
    the clusters come up while the talks go on (started right after the doctor); talks of two
    minutes a meme; each lab step three times its measured length (typing and reading along)
    plus three minutes of explaining; every slot rounded up to five minutes."""
    slots: list[Slot] = []
    clock = 0

    def add(minutes: int, what: str, basis: str) -> None:
        nonlocal clock
        slots.append(Slot(clock, minutes, what, basis))
        clock += minutes

    add(10, "Welcome; everyone runs `make doctor`, then `.venv/bin/python -m demo up`",
        f"doctor's fixes on the spot; up takes {seconds['up']:g} s here and runs on while the"
        " talks go on")  # fmt: skip
    for number, title, memes in parts:
        add(_round5(memes * SECONDS_PER_MEME), f"{title} (slides)", f"{memes} memes, 2 min each")
        if number == 4:  # the lab right after the part it measures
            for step in ("push", "pull", "drift"):
                measured = seconds[step]
                add(_round5(3 * measured + TALK_OVERHEAD), f"Lab: {step}",
                    f"the step took {measured:g} s in the kind recording, x3, + 3 min")  # fmt: skip
    add(max(5, WORKSHOP_MINUTES - clock), "Questions; `python -m demo down`", "what is left")
    return slots


def series_parts(docs: Path) -> list[tuple[int, str, int]]:
    """(part, title, memes) of each post of the series, from its front matter and fences."""
    parts = []
    for path in sorted((docs / "series").glob("part-*.md")):
        text = path.read_text(encoding="utf-8-sig")
        entry = entry_from_meta(path.name, get_data(text)[1])  # as the site reads a post
        if entry is not None:
            parts.append((entry.part, entry.title, text.count("```meme")))
    return sorted(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def render(show: str, docs: Path) -> str:
    room = load_room(docs)
    if show == "requirements":
        rows = [[r["need"], r["fix"]] for r in room["requirements"]]
        return table_html(["each laptop needs", "if doctor says it does not"], rows, code=True)
    if show == "problems":
        rows = [[r["check"], r["fix"]] for r in room["problems"]]
        return table_html(["doctor reports", "the fix"], rows, code=True)
    if show == "reset":
        text = "\n".join(room["reset"])
        return f'<pre class="workshop-commands"><code>{html.escape(text)}</code></pre>'
    recordings = docs / "lab" / "recordings"
    cast_path = recordings / "demo-kind.cast"
    cast = read_inside(cast_path, recordings, "run `python -m demo record --provider kind`")
    try:
        seconds = step_seconds(cast.decode("utf-8"), str(cast_path))
    except UnicodeDecodeError as error:
        raise ResultFenceError(
            f"{cast_path} is not UTF-8 text ({error}): record it again"
        ) from None
    if show == "steps":
        rows = [[s["title"], s["command"], f"{seconds[s['title']]:g} s", s["shows"]]
                for s in room["steps"]]  # fmt: skip
        rows = [[title, f"`{command}`", *rest] for title, command, *rest in rows]
        # The whole step as the tour ran it in its kind recording (the command, its waits, its
        # checks): not the experiments' measurements of one part of it.
        header = ["step", "attendees type", "length in the kind recording", "what it shows"]
        return table_html(header, rows, code=True)
    slots = agenda(series_parts(docs), seconds)
    rows = [[_clock(s.start), f"{s.minutes} min", s.what, s.basis] for s in slots]
    end = slots[-1].start + slots[-1].minutes
    note = f"{_clock(end)} in all, for a {WORKSHOP_MINUTES}-minute session."
    return table_html(["at", "for", "what", "why that long"], rows, code=True) + (
        f'<p class="workshop-total">{html.escape(note)}</p>'
    )


@loud("workshop-room")
def format_room(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter of the `workshop-room` fence."""
    spec = fence_yaml(src, "workshop-room")
    show = spec.get("show") if isinstance(spec, dict) else None
    if show not in SHOWS:
        raise ResultFenceError(f"a workshop-room fence needs `show:` one of {list(SHOWS)}")
    return f'<div class="workshop-room">{render(show, _folder())}</div>'
