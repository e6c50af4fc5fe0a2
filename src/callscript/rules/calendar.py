"""Due dates on the official Chinese calendar (holidays and make-up working days).

chinese_calendar covers the years the State Council has published. Past them we
fall back to Monday-Friday and say the date is estimated.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import chinese_calendar

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def is_working_day(day: date) -> tuple[bool, bool]:
    """(whether ``day`` is a working day, whether that is an estimate)."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:  # a year the package has no data for
        return day.weekday() < 5, True


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The ``days``-th working day after ``start``, and whether it is an estimate."""
    current, estimated, left = start, False, days
    while left > 0:
        current += timedelta(days=1)
        working, guessed = is_working_day(current)
        estimated = estimated or guessed
        if working:
            left -= 1
    return current, estimated


def local_date(moment: datetime) -> date:
    """The calendar day in China of an aware datetime."""
    return moment.astimezone(CHINA).date()
