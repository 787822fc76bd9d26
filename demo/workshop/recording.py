"""A terminal recording of the lab, made by the lab: `python -m demo record`.

Runs `python -m demo tour` on a lab state of its own under a pseudo-terminal (so it prints
exactly what a reader sees: colours, progress, tables), timestamps every chunk of output and
writes an asciicast v2 file (a JSON header line, then `[seconds, "o", text]` lines), which the
site's player replays with its real timings. Paths of this machine (the checkout, the home
folder, the lab state) are replaced before anything is written, and the lab is taken down
whatever happened.

Why by hand rather than asciinema's recorder: it is one `pty` and a loop, and asciinema
would be one more program to install on every machine that records.
"""

from __future__ import annotations

import codecs
import json
import os
import pty
import re
import select
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from demo.core.context import LabContext
from demo.core.errors import LabError
from demo.core.paths import REPO, write_atomic
from demo.core.run import start
from demo.lab.teardown import own_lab

ROOT = REPO
RECORDING = ROOT / "docs" / "lab" / "recordings" / "demo-kwok.cast"
WIDTH, HEIGHT = 100, 32
IDLE_TIME_LIMIT = 2.0  # seconds: a player shortens any longer pause to this (asciicast v2)


@dataclass
class Recording:
    width: int
    height: int
    title: str
    command: str
    events: list[tuple[float, str]] = field(default_factory=list)
    exit_code: int = 0

    @property
    def duration(self) -> float:
        return self.events[-1][0] if self.events else 0.0

    def cast(self) -> str:
        """The asciicast v2 text: header, then one event per line."""
        header = {
            "version": 2,
            "width": self.width,
            "height": self.height,
            "title": self.title,
            "command": self.command,
            "env": {"TERM": "xterm-256color"},
            "idle_time_limit": IDLE_TIME_LIMIT,
            "exit_code": self.exit_code,
        }
        lines = [json.dumps(header)]
        lines += [json.dumps([round(t, 3), "o", text]) for t, text in self.events]
        return "\n".join(lines) + "\n"


def record(
    argv: Sequence[str],
    env: dict[str, str],
    title: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    timeout: float = 900,
) -> Recording:
    """Run `argv` on a pseudo-terminal of `width` x `height`; its output, timed."""
    primary, secondary = pty.openpty()
    _set_size(secondary, width, height)
    environment = {**env, "TERM": "xterm-256color", "COLUMNS": str(width), "LINES": str(height)}
    started = time.monotonic()
    process = start(argv, terminal=secondary, env=environment, cwd=ROOT)
    os.close(secondary)
    shown = ["python" if a == sys.executable else a for a in argv]
    result = Recording(width, height, title, " ".join(shown))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            if time.monotonic() - started > timeout:
                process.kill()
                raise LabError(f"the recorded command ran longer than {timeout:g} s")
            ready, _, _ = select.select([primary], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the command closed its terminal
                break
            if not chunk:
                break
            text = decoder.decode(chunk)
            if text:
                result.events.append((time.monotonic() - started, text))
    finally:
        os.close(primary)
        result.exit_code = process.wait(timeout=60)
    return result


def _set_size(fd: int, width: int, height: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def scrub(recording: Recording, replacements: dict[str, str]) -> Recording:
    """The recording with every path of this machine replaced (longest first, so the lab
    state inside the home folder becomes its own placeholder), each line keeping its width:
    a row of a table the lab printed is as wide after as before (`keep_width`)."""
    order = sorted((k for k in replacements if k), key=len, reverse=True)

    def clean(text: str) -> str:
        for old in order:
            text = keep_width(text, old, replacements[old])
        return text

    recording.events = [(t, clean(text)) for t, text in recording.events]
    return recording


# A path runs to the next space, escape sequence or table border; after it, the spaces that
# pad its cell.
_BORDERS = "\x1b\u2502\u2503\u2551|"


def keep_width(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new`, the line as wide as before: a shorter path gets
    spaces after it (after the rest of the path, so the path itself stays whole), a longer
    one takes them from the padding that follows it, leaving one space before a border (a
    path longer than its cell and all its padding makes its line longer: the only way to
    keep it whole)."""
    text = _truncated(text, old, new)
    if old not in text:
        return text
    pattern = re.compile(re.escape(old) + f"([^\\s{_BORDERS}]*)( *)(?=([{_BORDERS}\\r\\n]|$)?)")

    def replace(match: re.Match) -> str:
        rest, padding, border = match.group(1), match.group(2), match.group(3)
        written = new + rest
        if border is None or not (padding or border.strip()):
            return written + padding  # running text: the words after the path follow it
        width = len(old) + len(rest) + len(padding)
        return written + " " * max(1 if padding else 0, width - len(written))

    return pattern.sub(replace, text)


ELLIPSIS = "\u2026"
SHORTEST_CUT = 8  # characters of a path a table may show before its ellipsis, to be replaced


def _truncated(text: str, old: str, new: str) -> str:
    """A path a table cut short (`/tmp/tellit-recordi…`) replaced too, in the same width: by
    `new` where it fits, else by `new` cut short the same way."""
    for keep in range(len(old) - 1, SHORTEST_CUT - 1, -1):
        cut = old[:keep] + ELLIPSIS
        if cut not in text:
            continue
        pattern = re.compile(re.escape(cut) + "( *)")

        def replace(match: re.Match, cut: str = cut) -> str:
            width = len(cut) + len(match.group(1))
            shown = new if len(new) < width else new[: max(1, width - 2)] + ELLIPSIS
            return shown + " " * (width - len(shown))

        text = pattern.sub(replace, text)
    return text


def record_demo(
    lab: LabContext,
    out: Path = RECORDING,
    provider: str = "kwok",
    clusters: int = 3,
) -> Recording:
    """`python -m demo tour` recorded on a lab state of its own beside `lab` (the reader's:
    its tools, its log for progress), then taken down."""
    progress = lab.log
    argv = [sys.executable, "-m", "demo", "tour", "--provider", provider,
            "--clusters", str(clusters)]  # fmt: skip
    progress(f"recording `python -m demo tour --provider {provider}` (a few minutes)")
    # "recording": its temporary folder (/tmp/tellit-recording-XXXXXXXX) is no shorter than the
    # placeholder it becomes, so scrubbing it keeps every table row's width (keep_width).
    with own_lab("recording", lab) as own:
        state = own.state
        env = dict(os.environ) | own.child_env()
        recording = record(argv, env, f"make demo PROVIDER={provider}")
    replacements = {
        str(state): "~/.cache/tell-it-with-a-meme/lab",
        str(ROOT): ".",
        str(Path.home()): "~",
        str(state.parent): "~/.cache/tell-it-with-a-meme",
    }
    recording = scrub(recording, replacements)
    if recording.exit_code != 0:
        raise LabError(
            f"the recorded tour failed (exit {recording.exit_code}): nothing was written",
            "run `make demo PROVIDER=kwok` to see why, fix it, then record again",
        )
    write_atomic(out, recording.cast(), mode=0o644)
    progress(f"recorded {recording.duration:.0f} s, {len(recording.events)} events: {out}")
    return recording
