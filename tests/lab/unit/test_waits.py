"""demo.core.waits.until: the one deadline loop, which answers or raises, never gives up quietly."""

from __future__ import annotations

import itertools

import pytest

from demo.core.errors import LabError
from demo.core.waits import TimedOut, until


class OwnError(LabError):
    pass


def test_the_first_answer_is_returned_and_none_or_false_mean_not_yet():
    answers = iter([None, False, 0, "late"])
    assert until(lambda: next(answers), "a number", 5, every=0) == 0


def test_it_looks_before_it_sleeps():
    looks = itertools.count()
    assert until(lambda: next(looks) == 0 or None, "the first look", 0, every=60) is True


def test_after_the_timeout_it_raises_saying_what_it_waited_for():
    with pytest.raises(TimedOut) as caught:
        until(lambda: None, "the registry to answer", 0.05, every=0.01, fix="start it")
    assert caught.value.message == "waited 0.05 s for the registry to answer"
    assert caught.value.fix == "start it"


def test_a_message_made_at_the_timeout_says_what_was_seen_last():
    seen = []

    def probe():
        seen.append(len(seen))
        return None

    with pytest.raises(OwnError) as caught:
        until(probe, timeout=0.05, every=0.01, message=lambda: f"{len(seen)} looks", error=OwnError)
    assert caught.value.message == f"{len(seen)} looks" and len(seen) >= 2


def test_a_probe_that_knows_waiting_cannot_help_ends_the_wait_at_once():
    def refused():
        raise OwnError("refused")

    with pytest.raises(OwnError, match="refused"):
        until(refused, "an answer", 60)


def test_a_wait_for_nothing_named_is_a_mistake_of_the_caller():
    with pytest.raises(ValueError):
        until(lambda: True, timeout=1)
