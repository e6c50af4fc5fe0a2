"""The calling windows of one day, on the official Chinese calendar, in the policy's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from callscript.planner.policy import WEEKDAYS, Policy
from callscript.rules.calendar import DayKind, day_kind


@dataclass(frozen=True, slots=True)
class DayWindows:
    """The day's windows as aware UTC datetimes, in order; ``why`` says why there are none."""

    day: DayKind
    windows: tuple[tuple[datetime, datetime], ...]
    why: str = ""

    @property
    def estimated(self) -> bool:
        return self.day.estimated


def day_windows(policy: Policy, day: date) -> DayWindows:
    kind = day_kind(day)
    if kind.holiday is not None or (not kind.working and kind.day.weekday() < 5 and not kind.estimated):
        name = kind.holiday or "a day off"
        return DayWindows(kind, (), f"{day.isoformat()} is a public holiday ({name}) on the official "
                                    "calendar: no calling window")
    if kind.makeup:
        local = policy.windows.makeup if policy.windows.makeup is not None else policy.windows.mon
    else:
        local = getattr(policy.windows, WEEKDAYS[day.weekday()])
    if not local:
        what = "make-up working day" if kind.makeup else WEEKDAYS[day.weekday()]
        return DayWindows(kind, (), f"the policy has no calling window on {day.isoformat()} ({what})")
    zone = policy.zone

    def moment(at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)

    return DayWindows(kind, tuple((moment(start), moment(end)) for start, end in local))
