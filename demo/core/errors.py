"""One error base for the lab: what went wrong, and what the reader can do about it.

Everything the lab raises for a reader to see is a `LabError`; the command line prints its
message and its fix, never a traceback. Errors from below (a refused connection, a missing
file, a failed command) are wrapped with `raise LabError(...) from error`, so the cause stays
attached for whoever debugs the lab itself.
"""

from __future__ import annotations


class LabError(Exception):
    """Something the lab could not do; `fix` says what to do next."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  what to do: {self.fix}" if self.fix else self.message
