"""Capture validation at its limits: each type's boundary values, invalid forms and messages.

The messages name the capture and what is allowed; the expected lists are exact, so a
check that is dropped, loosened or shifted by one fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from callscript.captures import MonthDay, from_json, to_json, validate_captures
from callscript.rules.calendar import CHINA
from callscript.spec import CaptureSpec

NOW = datetime(2026, 11, 23, 10, tzinfo=CHINA)
TOPIC = CaptureSpec(name="topic", type="choice", label="话题", choices=["话费", "信号"])
NOTE = CaptureSpec(name="note", label="备注")
PHONE = CaptureSpec(name="tel", type="phone", label="电话")
FLAG = CaptureSpec(name="ok", type="bool", label="同意")
COUNT = CaptureSpec(name="n", type="int", label="数")
DAY = CaptureSpec(name="day", type="date", label="日期")
AT = CaptureSpec(name="at", type="datetime", label="时间")
AMOUNT = CaptureSpec(name="amt", type="decimal", label="金额")
BIRTHDAY = CaptureSpec(name="birthday", type="month_day", label="生日")

EXPECTED = {
    "text": "must be text of 1 to 500 characters without control characters",
    "phone": "must be a phone number as text (digits, optionally with + - or spaces)",
    "bool": "must be true or false (a bool, or text true/false/是/否)",
    "int": "must be a whole number (an int or digits as text)",
    "date": "must be a date as ISO text such as 2026-05-01 (or a date object); numbers are "
            "not dates",
    "datetime": "must be a date and time as ISO text such as 2026-05-01T15:00 or "
                "2026-05-01T15:00:00+08:00 (or a datetime object); numbers are not times",
    "decimal": "must be a number (a Decimal, int, float or number text)",
    "choice": "must be one of the declared choices, as text",
}


def problems(spec: CaptureSpec, raw: Any, **options: Any) -> list[str]:
    with pytest.raises(ValueError) as caught:
        validate_captures((spec,), {spec.name: raw}, **options)
    found: list[str] = caught.value.args[0]
    return found


def refused(spec: CaptureSpec) -> list[str]:
    return [f"{spec.name!r} ({spec.label}) {EXPECTED[spec.type]}"]


@pytest.mark.parametrize(("spec", "raw", "kept"), [
    (TOPIC, "话费", "话费"), (TOPIC, " 信号 ", "信号"),
    (NOTE, "x" * 500, "x" * 500), (NOTE, "  好  ", "好"), (NOTE, "a\tb", "a\tb"),
    (PHONE, "123456", "123456"), (PHONE, "1" * 20, "1" * 20),
    (PHONE, " 139-1234-5678 ", "139-1234-5678"), (PHONE, "+86 139 1234 5678", "+86 139 1234 5678"),
    (FLAG, "是", True), (FLAG, "否", False), (FLAG, "TRUE", True), (FLAG, " false ", False),
    (FLAG, False, False),
    (COUNT, "+7", 7), (COUNT, "-3", -3), (COUNT, 10**18 - 1, 10**18 - 1),
    (COUNT, "1" * 18, int("1" * 18)),
    (DAY, " 2026-12-01 ", date(2026, 12, 1)), (DAY, date(2026, 12, 1), date(2026, 12, 1)),
    (AT, "2026-11-24T15:00", datetime(2026, 11, 24, 15, tzinfo=CHINA)),
    (AMOUNT, "12.123456", Decimal("12.123456")), (AMOUNT, 10**15 - 1, Decimal(10**15 - 1)),
    (AMOUNT, "-0.5", Decimal("-0.5")), (AMOUNT, "999999999999999.5", Decimal("999999999999999.5")),
    (BIRTHDAY, "5月1日", MonthDay(5, 1)), (BIRTHDAY, "--02-29", MonthDay(2, 29)),
])
def test_values_at_the_limits_are_taken(spec: CaptureSpec, raw: Any, kept: Any) -> None:
    assert validate_captures((spec,), {spec.name: raw}) == {spec.name: kept}


@pytest.mark.parametrize(("spec", "raw"), [
    (NOTE, "x" * 501), (NOTE, "a\x0bb"), (NOTE, 5),
    (PHONE, "12345"), (PHONE, "1" * 21), (PHONE, "call 13912345678"),
    (PHONE, "13912345678 call"), (PHONE, "13912345678x"), (PHONE, "-13912345678"),
    (PHONE, 13912345678),
    (FLAG, "yes"), (FLAG, 1), (FLAG, 0),
    (COUNT, 10**18), (COUNT, "1.0"), (COUNT, 7.0), (COUNT, True), (COUNT, "1" * 19),
    (DAY, "2026-02-30"), (DAY, "2026-2-3"), (DAY, datetime(2026, 1, 1)), (DAY, "20261201"),
    (DAY, 20261201),
    (AT, "2026-11-24T25:00"), (AT, "2026-11-24"), (AT, 1764000000),
    (AMOUNT, "12.1234567"), (AMOUNT, 10**15), (AMOUNT, Decimal("NaN")), (AMOUNT, True),
    (AMOUNT, "1e5"),
    (TOPIC, 1),
])
def test_invalid_forms_are_refused_with_what_is_allowed(spec: CaptureSpec, raw: Any) -> None:
    assert problems(spec, raw) == refused(spec)


def test_a_choice_outside_its_choices_is_refused_naming_them() -> None:
    assert problems(TOPIC, "服务") == ["'topic' (话题) must be one of 话费, 信号"]


def test_empty_values_are_missing_not_invalid() -> None:
    assert problems(NOTE, "  ") == ["'note' (备注) is required"]
    assert problems(NOTE, None) == ["'note' (备注) is required"]
    optional = CaptureSpec(name="o", label="可选", required=False)
    for given in ({}, {"o": "  "}, {"o": None}):
        assert validate_captures((optional,), given) == {}


def test_a_naive_datetime_takes_the_zone_given() -> None:
    assert validate_captures((AT,), {"at": "2026-11-24T15:00"}, zone=UTC) == {
        "at": datetime(2026, 11, 24, 15, tzinfo=UTC)}


@pytest.mark.parametrize(("spec", "raw", "wrong"), [
    (DAY, date(2026, 11, 22), "may not lie in the past"),
    (DAY, date(2026, 11, 23) + timedelta(days=732), "may not lie more than two years ahead"),
    (AT, NOW - timedelta(seconds=1), "may not lie in the past"),
    (AT, NOW + timedelta(days=731, seconds=1), "may not lie more than two years ahead"),
])
def test_appointments_lie_ahead_within_two_years(spec: CaptureSpec, raw: Any, wrong: str) -> None:
    assert problems(spec, raw, now=NOW, appointments={spec.name}) == [
        f"{spec.name!r} ({spec.label}) {wrong}"]


@pytest.mark.parametrize(("spec", "raw"), [
    (DAY, date(2026, 11, 23)), (DAY, date(2026, 11, 23) + timedelta(days=731)),
    (AT, NOW), (AT, NOW + timedelta(days=731)),
])
def test_appointment_bounds_are_inclusive(spec: CaptureSpec, raw: Any) -> None:
    assert validate_captures((spec,), {spec.name: raw}, now=NOW,
                             appointments={spec.name}) == {spec.name: raw}


def test_a_date_that_is_no_appointment_may_lie_in_the_past() -> None:
    assert validate_captures((DAY,), {"day": date(2020, 1, 1)}, now=NOW) == {
        "day": date(2020, 1, 1)}


@pytest.mark.parametrize(("raw", "wrong"), [
    (date(2026, 11, 24), "may not lie in the future"), (date(1899, 12, 31), "may not lie before 1900"),
])
def test_a_birthday_lies_between_1900_and_today(raw: date, wrong: str) -> None:
    assert problems(BIRTHDAY, raw, now=NOW) == [f"'birthday' (生日) {wrong}"]
    for fine in (date(2026, 11, 23), date(1900, 1, 1)):
        assert validate_captures((BIRTHDAY,), {"birthday": fine}, now=NOW) == {"birthday": fine}


def test_too_many_values_and_unknown_names() -> None:
    with pytest.raises(ValueError) as caught:
        validate_captures((NOTE,), {f"x{i}": 1 for i in range(65)})
    assert caught.value.args[0] == ["more than 64 values were given", "'note' (备注) is required"]
    with pytest.raises(ValueError) as caught:
        validate_captures((NOTE,), {f"x{i}": 1 for i in range(64)})
    assert caught.value.args[0] == [
        "a value was given under a name that is not captured here (captured here: note)",
        "'note' (备注) is required"]
    with pytest.raises(ValueError) as caught:
        validate_captures((), {"a": 1})
    assert caught.value.args[0] == [
        "a value was given under a name that is not captured here (captured here: nothing)"]
    assert validate_captures((), {}) == {}


@pytest.mark.parametrize(("spec", "value", "data"), [
    (DAY, date(2026, 12, 1), "2026-12-01"), (BIRTHDAY, MonthDay(6, 1), "--06-01"),
    (AT, datetime(2026, 11, 24, 15, tzinfo=CHINA), "2026-11-24T15:00:00+08:00"),
    (AMOUNT, Decimal("12.50"), "12.50"), (COUNT, 7, 7), (FLAG, True, True), (TOPIC, "话费", "话费"),
])
def test_json_round_trip_of_each_type(spec: CaptureSpec, value: Any, data: Any) -> None:
    assert to_json(value) == data
    assert from_json(spec, data) == value


@pytest.mark.parametrize(("spec", "data", "why"), [
    (TOPIC, "服务", "not one of the choices"),
    (AMOUNT, 12.5, "decimals are kept as text"),
    (AT, "2026-11-24T15:00:00", "naive datetime"),
    (COUNT, "七", "not a value of this capture type"),
])
def test_from_json_refuses_what_to_json_never_writes(spec: CaptureSpec, data: Any,
                                                     why: str) -> None:
    with pytest.raises(ValueError, match=f"^{why}$"):
        from_json(spec, data)


@pytest.mark.parametrize("month", range(1, 13))
def test_month_day_knows_the_length_of_every_month(month: int) -> None:
    last = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    assert MonthDay(month, last).isoformat() == f"--{month:02d}-{last:02d}"
    assert validate_captures((BIRTHDAY,), {"birthday": f"{month:02d}-{last:02d}"}) == {
        "birthday": MonthDay(month, last)}
    for day in (0, last + 1):
        with pytest.raises(ValueError, match=r"^not a day of the year$"):
            MonthDay(month, day)
        assert problems(BIRTHDAY, f"{month:02d}-{day:02d}") == [
            "'birthday' (生日) must be a month and day such as --05-01, 05-01 or 5月1日, or a full "
            "date such as 1985-05-01 (or a date object); numbers are not dates"]
    for outside in (0, 13):
        with pytest.raises(ValueError, match=r"^not a day of the year$"):
            MonthDay(outside, 1)
