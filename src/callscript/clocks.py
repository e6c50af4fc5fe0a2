"""Deterministic time and id sources for tests, demos and replays."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta


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

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def sequential_ids(prefix: str = "call") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"
