"""The lab's terminal recording: the recorder on a real pseudo-terminal, the committed
recording (a valid asciicast with nothing of this machine in it), and `make record` for real."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from support.lab import need_docker, need_lab_tools, need_registry
from support.paths import ROOT

from demo.core.context import LabContext, silent
from demo.core.errors import LabError
from demo.workshop.recording import RECORDING, Recording, record, record_demo, scrub

SCRIPT = r"""
import sys, time
print("\x1b[32mstarting\x1b[0m", flush=True)
for step in range(3):
    sys.stdout.write(f"\rstep {step + 1}/3"); sys.stdout.flush(); time.sleep(0.15)
print("\ndone, on a terminal:", sys.stdout.isatty())
"""


def read_cast(path: Path) -> tuple[dict, list[list]]:
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_the_recorder_keeps_the_terminal_and_its_timings(tmp_path):
    recording = record([sys.executable, "-c", SCRIPT], {"PATH": "/usr/bin:/bin"}, "a test")
    assert recording.exit_code == 0
    text = "".join(chunk for _, chunk in recording.events)
    assert "\x1b[32mstarting" in text  # colours kept
    assert "\rstep 3/3" in text and "done, on a terminal: True" in text
    times = [t for t, _ in recording.events]
    assert times == sorted(times) and recording.duration >= 0.4  # three sleeps of 0.15 s
    header, events = json.loads(recording.cast().splitlines()[0]), recording.cast().splitlines()[1:]
    assert header["version"] == 2 and header["width"] == 100 and header["exit_code"] == 0
    assert len(events) == len(recording.events)


def test_scrub_replaces_the_longest_path_first():
    recording = Recording(100, 32, "t", "c", [(0.1, "/home/x/.cache/lab/git and /home/x/repo")])
    scrub(recording, {"/home/x": "~", "/home/x/.cache/lab": "LAB", "": "never"})
    assert recording.events == [(0.1, "LAB/git and ~/repo")]


def test_scrub_keeps_the_width_of_a_table_row():
    """A path in a table's cell: the row is as wide after as before, its borders in place."""
    row = "\u2502 free disk \u2502 62 GB free at /home/someone/.cache/x/lab    \u2502 ok \u2502"
    longer = "\u2502 state \u2502 /tmp/l  \u2502"
    recording = Recording(100, 32, "t", "c", [(0.1, row + "\r\n"), (0.2, longer + "\r\n")])
    scrub(recording, {"/home/someone/.cache/x/lab": "~/lab", "/tmp/l": "~/.cache/lab"})
    (_, first), (_, second) = recording.events
    assert first.startswith("\u2502 free disk \u2502 62 GB free at ~/lab ")
    assert len(first) == len(row) + 2 and first.endswith("\u2502 ok \u2502\r\n")
    # Longer than its cell and padding: one space kept before the border, the path whole.
    assert second == "\u2502 state \u2502 ~/.cache/lab \u2502\r\n"


def test_scrub_replaces_a_path_a_table_cut_short():
    """Rich cuts a long cell with an ellipsis: the part it shows is this machine's path too."""
    cut = "\u2502 /tmp/tellit-recording-hg2yo\u2026 \u2502"
    recording = Recording(
        100, 32, "t", "c", [(0.1, cut), (0.2, "\u2502 /tmp/tellit-rec\u2026 \u2502")]
    )
    scrub(recording, {"/tmp/tellit-recording-hg2yo4k2": "~/.cache/tell-it-with-a-meme"})
    (_, first), (_, second) = recording.events
    assert first == "\u2502 ~/.cache/tell-it-with-a-meme \u2502" and len(first) == len(cut)
    assert second == "\u2502 ~/.cache/tell-i\u2026 \u2502"  # cut short as the table had it


@pytest.mark.parametrize("provider", ["kwok", "kind"])
def test_the_committed_recording_is_a_real_run_with_nothing_of_this_machine(provider):
    header, events = read_cast(RECORDING.with_name(f"demo-{provider}.cast"))
    assert header["version"] == 2 and header["exit_code"] == 0
    assert header["command"] == f"python -m demo tour --provider {provider} --clusters 3"
    times = [event[0] for event in events]
    assert times == sorted(times) and times[-1] > 5  # a real run takes its time
    assert all(event[1] == "o" and isinstance(event[2], str) for event in events)
    text = "".join(event[2] for event in events)
    for words in ("The lab is up", "1/3 push", "2/3 pull", "3/3 drift", "What happened"):
        assert words in text
    for private in (str(ROOT), str(Path.home()) + "/", "/tmp/tellit-", "eyJhbGci"):
        assert private not in text, f"the recording shows {private!r}"
    # Pauses are capped for the player, and every table is as wide in each of its rows.
    assert 0 < header["idle_time_limit"] <= 5
    for table in box_tables(text):
        assert len({len(row) for row in table}) == 1, "\n".join(table)


def box_tables(text: str) -> list[list[str]]:
    """The tables a recording printed (runs of lines drawn with box characters), as text."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r\n", "\n").split("\n")
    tables: list[list[str]] = [[]]
    for line in plain:
        if line[:1] in "\u2502\u2503\u250f\u2517\u2521\u2514\u250c\u251c":
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    return [table for table in tables if table]


def test_recording_refuses_beside_a_lab_that_is_up(tmp_path, monkeypatch):
    state = tmp_path / "yours"
    state.mkdir()
    (state / "lab.json").write_text('{"provider": "kwok", "clusters": ["east"]}')
    monkeypatch.setenv("TELLIT_LAB_STATE", str(state))
    out = tmp_path / "demo.cast"
    with pytest.raises(LabError) as caught:
        record_demo(LabContext.from_environment(silent), out)
    assert "take yours down first" in caught.value.fix
    assert not out.exists()


@pytest.mark.provisioned
def test_make_record_records_the_demo_and_takes_its_lab_down(tmp_path, lab_state):
    need_lab_tools()
    need_docker()
    need_registry()
    out = tmp_path / "demo.cast"
    recording = record_demo(LabContext.from_environment(silent), out)
    header, events = read_cast(out)
    assert header["exit_code"] == 0 and len(events) == len(recording.events)
    assert "What happened" in "".join(event[2] for event in events)
    assert not (lab_state / "lab.json").exists()  # its own state, not the test's
