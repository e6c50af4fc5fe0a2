"""The official calendar, day by day: holidays, make-up working days, estimates past the data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from callscript.rules.calendar import DayKind, add_working_days, day_kind, is_working_day, local_date


@pytest.mark.parametrize(("day", "kind"), [
    (date(2025, 10, 11), DayKind(date(2025, 10, 11), True, True, None, False)),  # a Saturday worked
    (date(2025, 9, 28), DayKind(date(2025, 9, 28), True, True, None, False)),  # a Sunday worked
    (date(2026, 2, 28), DayKind(date(2026, 2, 28), True, True, None, False)),
    (date(2025, 10, 1), DayKind(date(2025, 10, 1), False, False, "国庆节", False)),
    (date(2025, 10, 8), DayKind(date(2025, 10, 8), False, False, "国庆节", False)),
    (date(2026, 2, 15), DayKind(date(2026, 2, 15), False, False, "春节", False)),
    (date(2026, 11, 20), DayKind(date(2026, 11, 20), True, False, None, False)),  # a Friday
    (date(2026, 11, 21), DayKind(date(2026, 11, 21), False, False, None, False)),  # a Saturday
    (date(2030, 1, 5), DayKind(date(2030, 1, 5), False, False, None, True)),  # past the data
    (date(2030, 1, 7), DayKind(date(2030, 1, 7), True, False, None, True)),
])
def test_day_kind(day: date, kind: DayKind) -> None:
    assert day_kind(day) == kind


@pytest.mark.parametrize(("day", "verdict"), [
    (date(2025, 10, 11), (True, False)), (date(2025, 10, 1), (False, False)),
    (date(2030, 1, 7), (True, True)), (date(2030, 1, 5), (False, True)),
])
def test_is_working_day(day: date, verdict: tuple[bool, bool]) -> None:
    assert is_working_day(day) == verdict


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2025, 9, 30), 0, (date(2025, 9, 30), False)),
    (date(2025, 9, 30), 1, (date(2025, 10, 9), False)),  # over the National Day week
    (date(2025, 9, 30), 3, (date(2025, 10, 11), False)),  # a make-up Saturday counts
    (date(2026, 2, 13), 1, (date(2026, 2, 14), False)),
    (date(2026, 11, 20), 1, (date(2026, 11, 23), False)),  # Friday to Monday
    (date(2029, 12, 28), 5, (date(2030, 1, 4), True)),  # into a year without data
])
def test_add_working_days(start: date, days: int, due: tuple[date, bool]) -> None:
    assert add_working_days(start, days) == due


def test_local_date_is_the_day_in_china() -> None:
    assert local_date(datetime(2026, 11, 23, 16, tzinfo=UTC)) == date(2026, 11, 24)
    assert local_date(datetime(2026, 11, 23, 15, 59, tzinfo=UTC)) == date(2026, 11, 23)
