"""Due dates on the official Chinese calendar (holidays and make-up working days).

chinese_calendar covers the years the State Council has published. Past them we
fall back to Monday-Friday and say the date is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
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


HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节", "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利纪念日",
}


@dataclass(frozen=True, slots=True)
class DayKind:
    """What the official calendar says of one day.

    ``makeup`` is a weekend day worked in exchange for a holiday (调休上班);
    ``holiday`` names the public holiday the day belongs to, in Chinese.
    """

    day: date
    working: bool
    makeup: bool
    holiday: str | None
    estimated: bool


def day_kind(day: date) -> DayKind:
    """The calendar's verdict on ``day``; past the published years, Monday-Friday (estimated)."""
    try:
        working = bool(chinese_calendar.is_workday(day))
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return DayKind(day, day.weekday() < 5, False, None, True)
    holiday = HOLIDAY_NAMES.get(name, name) if on_holiday and name else None
    return DayKind(day, working, working and day.weekday() >= 5, holiday, False)
