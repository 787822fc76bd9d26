"""Waiting for something the lab started: one loop, and it always ends in an answer or an error.

A deadline loop written by hand in each module drifts: one sleeps before its first look, one
gives up without a word and lets the next step fail somewhere else. `until` looks first, sleeps
`every` seconds between looks, and raises when `timeout` has passed, saying what it waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from demo.core.errors import LabError

T = TypeVar("T")


class TimedOut(LabError):
    """What `until` raises when no `error` of the caller's own is given: a caller to whom "not
    within the time" is a result (an experiment's sample) catches this and nothing else."""


STATUS_FIX = "`python -m demo status` shows the lab; run the step again once it is healthy"


def until(
    probe: Callable[[], T | None],
    what: str = "",
    timeout: float = 120,
    *,
    message: str | Callable[[], str] = "",
    every: float = 0.5,
    fix: str = STATUS_FIX,
    error: type[LabError] = TimedOut,
) -> T:
    """What `probe` returns once it is neither None nor False.

    After `timeout` seconds, `error(message, fix)`: `message` (or what it returns, worked out
    only then, so it can say what was last seen), else "waited N s for `what`". A probe raises
    on its own when waiting cannot help (a refusal, a process that exited).
    """
    if not (what or message):
        raise ValueError("until() needs what it waits for or the message to give up with")
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            said = message() if callable(message) else message
            raise error(said or f"waited {timeout:g} s for {what}", fix)
        time.sleep(every)
