"""Time and id sources: the defaults, and deterministic ones for tests, demos and replays.

A clock is any callable returning an aware datetime. A turn reads it exactly
once. Queries that only look at the time (``Call.time_up``) use ``peek`` when
the clock has one, so asking never moves a stepping clock.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from callscript.errors import ArgumentError

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class SteppingClock:
    """A clock that starts at ``start`` and moves ``step`` forward on every reading."""

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=15)) -> None:
        if start.tzinfo is None:
            raise ValueError("SteppingClock needs an aware datetime")
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current

    def peek(self) -> datetime:
        """The time the next reading returns, without moving the clock."""
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def read(clock: Clock) -> datetime:
    """One reading, checked: an aware datetime (a naive one would make every comparison lie)."""
    now = clock()
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ArgumentError("clock", "a callable returning an aware datetime", now)
    return now


def peek(clock: Clock) -> datetime:
    """The time now without moving a clock that moves on reading (``SteppingClock``)."""
    look = getattr(clock, "peek", None)
    return read(look) if callable(look) else read(clock)


def sequential_ids(prefix: str = "call") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"
