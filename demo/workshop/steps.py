"""A step of a walkthrough: what it shows, what an attendee would type, what it does, and the
check that reads the cluster afterwards. Part 4's story (`tour`) walks steps over a `Story`,
the mini-labs (`minilabs`) over a `Bench`; one shape serves both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[T]):
    title: str
    shows: str
    command: str  # what an attendee would type to do it by hand
    act: Callable[[T], None]
    check: Callable[[T], str | None]  # what is wrong, read from the cluster; None if fine
    needs: tuple[str, ...] = ()  # "pods" (real ones) and/or "node" (a control-plane node)
