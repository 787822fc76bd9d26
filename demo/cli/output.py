"""Where the command line's words go: results to stdout, errors to stderr, and `--json` for
scripts and tests, as kubectl and flux do it (`-o json`)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from rich.console import Console

from demo.core.context import LabContext, Log


@dataclass
class Out:
    """The consoles of one command: `out` for what it answers, `err` for what went wrong.

    With `--json` the answer is one JSON document on stdout and everything said along the way
    (progress, logs) goes to stderr, so that `python -m demo status --json | jq` works.
    """

    out: Console = field(default_factory=lambda: Console(highlight=False, log_path=False))
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, log_path=False)
    )
    as_json: bool = False

    @property
    def talk(self) -> Console:
        """The console for progress and logs: stdout for a person, stderr under --json."""
        return self.err if self.as_json else self.out

    def lab(self, log: Log | None = None) -> LabContext:
        """The lab this command works on, as the environment names it (the only place the
        command line reads it), logging to `log` or the talking console."""
        return LabContext.from_environment(log or self.talk.log)

    def emit(self, document: object) -> None:
        """The command's answer as JSON on stdout (dataclasses as their fields)."""
        text = json.dumps(document, indent=2, default=_plain)
        print(text, file=self.out.file, flush=True)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def ok_mark(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]failed[/]"


def health_mark(ok: bool, bad: str = "does not answer") -> str:
    return "[green]answers[/]" if ok else f"[red]{bad}[/]"


def add_json_flag(parser) -> None:
    """`--json`, or `-o json` as kubectl spells it: the answer as JSON, logs on stderr."""
    parser.add_argument(
        "--json", action="store_true", help="print the answer as JSON on stdout (logs on stderr)"
    )
    parser.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="as kubectl: -o json"
    )


def wants_json(args) -> bool:
    return bool(getattr(args, "json", False)) or getattr(args, "output", "table") == "json"
