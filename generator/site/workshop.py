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

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.utils.meta import get_data

from .results import ResultFenceError, fence_yaml, results_dir, table_html
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


def load_room(docs: Path) -> dict:
    path = docs / "workshop" / "room.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultFenceError(f"{path} is missing: run `python -m demo room`") from None
    except ValueError as error:
        raise ResultFenceError(f"{path} is not JSON ({error}): run `python -m demo room`") from None


def step_seconds(cast: str) -> dict[str, float]:
    """Each step's length in a recording of the tour: from its start marker to the next."""
    events = [json.loads(line) for line in cast.splitlines()[1:] if line.strip()]
    plain = ""
    times: list[tuple[int, float]] = []  # (offset into the plain text, time of that event)
    for moment, _, text in events:
        times.append((len(plain), moment))
        plain += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)

    def at(marker: str | None) -> float:
        if marker is None:
            return 0.0
        index = plain.find(marker)
        if index < 0:
            raise ResultFenceError(f"the recording has no {marker!r}: record it again")
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
    cast_path = docs / "lab" / "recordings" / "demo-kind.cast"
    try:
        seconds = step_seconds(cast_path.read_text())
    except FileNotFoundError:
        raise ResultFenceError(
            f"{cast_path} is missing: run `python -m demo record --provider kind`"
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


def format_room(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    """superfences' formatter of the `workshop-room` fence."""
    spec = fence_yaml(src, "workshop-room")
    show = spec.get("show") if isinstance(spec, dict) else None
    if show not in SHOWS:
        raise ResultFenceError(f"a workshop-room fence needs `show:` one of {list(SHOWS)}")
    return f'<div class="workshop-room">{render(show, _folder())}</div>'
