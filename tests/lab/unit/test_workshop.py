"""The facilitator's page: its facts come from the lab (and stay in step with it), its agenda
from the lab's measured step times, and every fence mistake says what to do."""

from __future__ import annotations

import itertools
import json

import pytest
from support.paths import ROOT

from demo.lab import doctor
from demo.workshop import room
from generator.site import workshop
from generator.site.results import ResultFenceError

DOCS = ROOT / "docs"


def cast(*events: tuple[float, str]) -> str:
    header = json.dumps({"version": 2, "width": 80, "height": 24})
    return "\n".join([header, *(json.dumps([t, "o", text]) for t, text in events)]) + "\n"


def test_the_committed_room_facts_are_what_the_lab_says_now():
    committed = json.loads((DOCS / "workshop" / "room.json").read_text())
    assert committed == room.facts(), "run `python -m demo room` and commit docs/workshop/room.json"


def test_the_room_needs_every_shared_doctor_check_with_its_own_fix():
    needs = {row["check"]: row for row in room.requirements()}
    for check in doctor.NEEDS.values():
        assert needs[check.check]["fix"] == check.fix
    assert {"port 5001", "inotify", "kind node image"} <= set(needs)
    assert [p["check"] for p in room.facts()["problems"]] == list(room.PROBLEMS)


def test_step_times_come_from_the_recording_s_markers():
    recorded = cast(
        (0.5, "starting\r\n"),
        (40.0, "\x1b[1mThe lab is up\x1b[0m in 39 s\r\n"),
        (41.0, "1/3 push: ...\r\n"),
        (50.0, "2/3 pull: ...\r\n"),
        (62.5, "3/3 drift: ...\r\n"),
        (70.0, "What happened\r\n"),
    )
    assert workshop.step_seconds(recorded) == {"up": 40.0, "push": 9.0, "pull": 12.5, "drift": 7.5}
    with pytest.raises(ResultFenceError, match="no '3/3 drift'"):
        workshop.step_seconds(cast((1.0, "The lab is up 1/3 push 2/3 pull What happened")))


def test_the_agenda_fits_the_session_and_follows_the_measurements():
    parts = [(1, "Part 1", 3), (2, "Part 2", 3), (3, "Part 3", 3), (4, "Part 4", 4), (5, "P5", 3)]
    quick = {"up": 60.0, "push": 10.0, "pull": 10.0, "drift": 10.0}
    slots = workshop.agenda(parts, quick)
    assert slots[-1].start + slots[-1].minutes == workshop.WORKSHOP_MINUTES
    assert all(b.start == a.start + a.minutes for a, b in itertools.pairwise(slots))
    assert [s.what for s in slots].index("Lab: push") == 5  # right after part 4's slides
    slow = workshop.agenda(parts, {**quick, "push": 200.0})  # 3 x 200 s + 3 min: 15 min
    assert next(s.minutes for s in slow if s.what == "Lab: push") == 15


@pytest.mark.parametrize(
    ("source", "expected"),
    [("show: everything\n", "needs `show:` one of"), ("show: [\n", "is not YAML"), ("", "needs")],
)
def test_a_wrong_fence_says_what_to_do(source, expected):
    with pytest.raises(ResultFenceError, match=expected):
        workshop.format_room(source, "workshop-room", "workshop-room", {}, None)


def test_a_missing_room_file_names_the_command(tmp_path):
    with pytest.raises(ResultFenceError, match="run `python -m demo room`"):
        workshop.load_room(tmp_path)
