"""One error type for every mistake an author can make, always saying where and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def excerpt(value: object, limit: int = 60) -> str:
    """A value as an error message shows it: its repr, cut short, so that a huge or hostile
    value can neither flood the message nor cost time to format."""
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Location:
    """Where a mistake is: a file, and when known a line and a field."""

    path: Path | str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        text = str(self.path)
        if self.line is not None:
            text += f":{self.line}"
        if self.field:
            text += f": field '{self.field}'"
        return text


class MemeError(Exception):
    """A bad template, declaration or caption: what is wrong, where, and how to fix it."""

    def __init__(self, where: Location, problem: str, fix: str = "") -> None:
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.problem}"
        if self.fix:
            text += f" ({self.fix})"
        return text


class MemeErrors(Exception):
    """Several mistakes found in one pass, so an author can fix them all at once."""

    def __init__(self, errors: list[MemeError]) -> None:
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return str(self.errors[0])
        lines = [f"{len(self.errors)} problems:"]
        lines += [f"  - {error}" for error in self.errors]
        return "\n".join(lines)
