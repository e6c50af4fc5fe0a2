"""Validation of captured values: each capture type accepts exactly its documented forms.

- text: text of 1-500 characters after trimming, without control characters.
- phone: text of digits, optionally a leading + and - or spaces, 6-20 characters.
- date: ISO text ``2026-05-01`` or a ``date`` (not a datetime); kept as a date.
- datetime: ISO text ``2026-05-01T15:00`` (seconds and offset optional) or a
  ``datetime``; without an offset it takes the deployment's time zone; kept aware.
- month_day: ``--05-01``, ``05-01``, ``5月1日`` or a ``MonthDay``; or a full date
  (ISO text or a ``date``), kept whole.
- int: an int (not a bool) or digits as text.
- decimal: a Decimal, int or finite float, or number text; kept as a Decimal.
- bool: a bool, or text true/false/是/否.
- choice: one of the declared choices, as text.

Numbers are never dates: ``0`` is not 1970-01-01. A date or datetime that a
follow-up is due at (an appointment) may not lie in the past nor more than two
years ahead; a full date given for a month_day (a birthday) may not lie in the
future. Messages name the capture and what is allowed, never the value given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from callscript.rules.calendar import CHINA
from callscript.spec import CaptureSpec

MAX_TEXT = 500
MAX_VALUES = 64  # captures in one turn; more is not an answer but a mistake
APPOINTMENT_HORIZON = timedelta(days=731)


@dataclass(frozen=True, slots=True, order=True)
class MonthDay:
    """A day of the year without a year: a birthday asked without asking the age."""

    month: int
    day: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.day <= _DAYS[self.month - 1]):
            raise ValueError("not a day of the year")

    def isoformat(self) -> str:
        return f"--{self.month:02d}-{self.day:02d}"  # ISO 8601's form for a month and day

    __str__ = isoformat


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PHONE = re.compile(r"\+?\d[\d\- ]{4,18}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
_MONTH_DAY = re.compile(r"(?:--)?(\d{2})-(\d{2})|(\d{1,2})月(\d{1,2})[日号]?")
_INT = re.compile(r"[+-]?\d{1,18}")
_DECIMAL = re.compile(r"[+-]?\d{1,15}(\.\d{1,6})?")
_BOOLS = {"true": True, "false": False, "是": True, "否": False}


class Refused(ValueError):
    """One value refused; the message says what is allowed (set by the caller)."""


def _clean_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise Refused
    text = raw.strip()
    if not 1 <= len(text) <= MAX_TEXT or _CONTROL.search(text) or not _encodable(text):
        raise Refused
    return text


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # lone surrogates would break every JSON encoder later
    except UnicodeEncodeError:
        return False
    return True


def _phone(raw: Any) -> str:
    if not isinstance(raw, str) or not _PHONE.fullmatch(text := raw.strip()):
        raise Refused
    return text


def _date(raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and _DATE.fullmatch(raw.strip()):
        return date.fromisoformat(raw.strip())
    raise Refused


def _datetime(raw: Any, zone: tzinfo) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str) and _DATETIME.fullmatch(raw.strip()):
        value = datetime.fromisoformat(raw.strip())
    else:
        raise Refused
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _month_day(raw: Any) -> MonthDay | date:
    if isinstance(raw, MonthDay):
        return raw
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        found = _MONTH_DAY.fullmatch(text)
        if found:
            month, day = (int(g) for g in found.groups() if g is not None)
            return MonthDay(month, day)
    raise Refused


def _int(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**18:
        return raw
    if isinstance(raw, str) and _INT.fullmatch(raw.strip()):
        return int(raw.strip())
    raise Refused


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise Refused
    if isinstance(raw, Decimal | int | float):
        value = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
    elif isinstance(raw, str) and _DECIMAL.fullmatch(raw.strip()):
        value = Decimal(raw.strip())
    else:
        raise Refused
    try:
        if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
            raise Refused
    except InvalidOperation:
        raise Refused from None
    return value


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _BOOLS:
        return _BOOLS[raw.strip().lower()]
    raise Refused


_EXPECTED = {
    "text": f"text of 1 to {MAX_TEXT} characters without control characters",
    "phone": "a phone number as text (digits, optionally with + - or spaces)",
    "date": "a date as ISO text such as 2026-05-01 (or a date object); numbers are not dates",
    "datetime": "a date and time as ISO text such as 2026-05-01T15:00 or "
                "2026-05-01T15:00:00+08:00 (or a datetime object); numbers are not times",
    "month_day": "a month and day such as --05-01, 05-01 or 5月1日, or a full date such as "
                 "1985-05-01 (or a date object); numbers are not dates",
    "int": "a whole number (an int or digits as text)",
    "decimal": "a number (a Decimal, int, float or number text)",
    "bool": "true or false (a bool, or text true/false/是/否)",
    "choice": "one of the declared choices, as text",
}


def _parser(spec: CaptureSpec, zone: tzinfo) -> Callable[[Any], Any]:
    kind = spec.type
    if kind == "datetime":
        return lambda raw: _datetime(raw, zone)
    return _PARSERS[kind]


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _clean_text, "phone": _phone, "date": _date, "month_day": _month_day, "int": _int,
    "decimal": _decimal, "bool": _bool, "choice": _clean_text,
}


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _time_problem(spec: CaptureSpec, value: Any, now: datetime, zone: tzinfo,
                  appointment: bool) -> str | None:
    """Appointments lie ahead (within two years); a birthday's full date does not."""
    today = now.astimezone(zone).date()
    if appointment and isinstance(value, datetime):
        if value < now:
            return "may not lie in the past"
        if value > now + APPOINTMENT_HORIZON:
            return "may not lie more than two years ahead"
    elif appointment and isinstance(value, date):
        if value < today:
            return "may not lie in the past"
        if value > today + APPOINTMENT_HORIZON:
            return "may not lie more than two years ahead"
    elif spec.type == "month_day" and isinstance(value, date):
        if value > today:
            return "may not lie in the future"
        if value.year < 1900:
            return "may not lie before 1900"
    return None


def validate_captures(specs: tuple[CaptureSpec, ...], given: Mapping[str, Any], *,
                      now: datetime | None = None, zone: tzinfo | None = None,
                      appointments: Collection[str] = ()) -> dict[str, Any]:
    """Validated values, or ValueError whose one argument lists every problem.

    ``given`` must be a mapping (the caller checks). Never echoes a value, nor a
    name that is not a capture of ``specs``. Without ``now`` the checks against
    the time (appointments ahead, birthdays behind) are skipped.
    """
    if not specs and not given:
        return {}
    zone = zone or CHINA
    known = {spec.name for spec in specs}
    problems: list[str] = []
    if len(given) > MAX_VALUES:
        problems.append(f"more than {MAX_VALUES} values were given")
    elif any(not isinstance(name, str) or name not in known for name in given):
        problems.append("a value was given under a name that is not captured here (captured "
                        f"here: {', '.join(sorted(known)) or 'nothing'})")
    values: dict[str, Any] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if _empty(raw):
            if spec.required:
                problems.append(f"{spec.name!r} ({spec.label}) is required")
            continue
        try:
            value = _parser(spec, zone)(raw)
        except (Refused, ValueError):  # ValueError: a date such as 2026-02-30
            problems.append(f"{spec.name!r} ({spec.label}) must be {_EXPECTED[spec.type]}")
            continue
        if spec.type == "choice" and value not in (spec.choices or ()):
            problems.append(f"{spec.name!r} ({spec.label}) must be one of "
                            f"{', '.join(spec.choices or ())}")
            continue
        if now is not None and spec.type in ("date", "datetime", "month_day"):
            wrong = _time_problem(spec, value, now, zone, spec.name in appointments)
            if wrong:
                problems.append(f"{spec.name!r} ({spec.label}) {wrong}")
                continue
        values[spec.name] = value
    if problems:
        raise ValueError(problems)
    return values


def to_json(value: Any) -> Any:
    """A captured value as JSON data (dates as ISO text, decimals as text)."""
    if isinstance(value, date | datetime | MonthDay):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json(spec: CaptureSpec, value: Any) -> Any:
    """A value from a snapshot, as ``to_json`` wrote it; ValueError when it is not one."""
    if spec.type == "datetime" and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if spec.type == "decimal" and not isinstance(value, str):
        raise ValueError("decimals are kept as text")
    try:
        parsed_value = _parser(spec, UTC)(value)
    except Refused:
        raise ValueError("not a value of this capture type") from None
    if spec.type == "choice" and parsed_value not in (spec.choices or ()):
        raise ValueError("not one of the choices")
    return parsed_value
