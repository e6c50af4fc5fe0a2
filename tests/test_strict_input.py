"""Strict input: each capture type takes exactly its documented forms; wrong argument types
are ArgumentErrors; every refusal names the field, echoes no value and changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from callscript import (
    AnswerRejected,
    ArgumentError,
    Call,
    CallscriptError,
    CaptureRejected,
    Flow,
    MonthDay,
    SteppingClock,
    load_flows,
)
from callscript.rules.calendar import CHINA

from .conftest import FIXTURES, context_for

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
BIRTHDAY_STEP = [("answered", {}), ("confirmed", {}), ("agrees", {}), ("all_fine", {}),
                 ("no_questions", {}), ("declines", {}), ("declines", {})]


def clock() -> SteppingClock:
    return SteppingClock(NOW, timedelta(seconds=10))


def first_visit(flows: dict[str, Flow], moves: list[tuple[str, dict[str, Any]]]) -> Call:
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=clock())
    for answer, captures in moves:
        call.answer(answer, captures)
    return call


def at(flows: dict[str, Flow], where: str) -> tuple[Call, str]:
    """A call at a step taking the capture ``where``, and the answer that takes it."""
    if where == "callback_time":
        call = first_visit(flows, [("answered", {}), ("confirmed", {})])
        call.interrupt("busy")
        call.answer("no_time")
        return call, "agrees"
    if where == "birthday":
        return first_visit(flows, BIRTHDAY_STEP), "gives"
    if where == "next_callback":
        return first_visit(flows, [*BIRTHDAY_STEP, ("declines", {})]), "wants"
    if where == "objection_topic":
        call = first_visit(flows, [("answered", {}), ("confirmed", {})])
        call.interrupt("dissatisfied")
        return call, "doubts_bill"
    if where in ("address", "home_phone"):
        return first_visit(flows, BIRTHDAY_STEP[:5]), "gives"
    if where == "score":
        guarded = load_flows(FIXTURES / "good" / "guarded.yaml")["guarded"]
        call = Call.start(guarded, {"billing": {"last_month": "100", "this_month": "40"},
                                    "deployment": {"hotline": "10010"}}, clock=clock())
        call.answer("fine")
        return call, "scored"
    raise AssertionError(where)


OTHER = {"callback_frequency": "每月", "objection_text": "多扣了钱", "address": "文三路1号"}

BAD: list[tuple[str, Any]] = [
    ("callback_time", 1700000000), ("callback_time", 0), ("callback_time", 13812345678),
    ("callback_time", "13812345678"), ("callback_time", 1.5), ("callback_time", True),
    ("callback_time", "明天下午"), ("callback_time", date(2026, 12, 1)),
    ("callback_time", "2026-11-22T10:00:00+08:00"),  # in the past
    ("callback_time", datetime(2026, 11, 23, 9, 0, tzinfo=CHINA)),  # an hour ago
    ("callback_time", "2030-01-01T10:00"),  # more than two years ahead
    ("callback_time", ["2026-12-01T10:00"]), ("callback_time", {"at": "2026-12-01"}),
    ("next_callback", 0), ("next_callback", 20261201), ("next_callback", "2026/12/01"),
    ("next_callback", "20261201"), ("next_callback", datetime(2026, 12, 1, tzinfo=CHINA)),
    ("next_callback", "2026-11-22"), ("next_callback", False),
    ("birthday", 0), ("birthday", 19850601), ("birthday", 601), ("birthday", "1985-13-01"),
    ("birthday", "02-30"), ("birthday", "13-01"), ("birthday", "2027-01-01"),
    ("birthday", date(2026, 12, 24)), ("birthday", "1899-06-01"), ("birthday", True),
    ("objection_topic", 1), ("objection_topic", ["话费"]), ("objection_topic", "其他的事情"),
    ("home_phone", 13812345678), ("home_phone", "call me later"),
    ("address", 12345678), ("address", b"\xe6\x96\x87"), ("address", "x" * 501),
    ("address", "文三路\x00100号"), ("address", "文三路\ud800"),
    ("score", "1.5"), ("score", 1.5), ("score", True), ("score", "七"), ("score", 10**19),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_bad_capture_values_are_refused(flows: dict[str, Flow], name: str, value: Any) -> None:
    call, answer = at(flows, name)
    before = call.snapshot_json()
    captures = {k: v for k, v in OTHER.items()
                if any(c.name == k for c in call.step.answers[answer].captures)}
    with pytest.raises(CaptureRejected) as caught:
        call.answer(answer, captures | {name: value})
    message = str(caught.value)
    assert f"'{name}'" in message
    shown = str(value)
    if len(shown) >= 4:
        assert shown not in message and repr(value) not in message
    assert call.snapshot_json() == before


GOOD: list[tuple[str, Any, Any]] = [
    ("callback_time", "2026-11-24T15:00", "2026-11-24T15:00:00+08:00"),  # naive: Asia/Shanghai
    ("callback_time", "2026-11-24 15:00:00", "2026-11-24T15:00:00+08:00"),
    ("callback_time", "2026-11-24T07:00:00Z", "2026-11-24T07:00:00+00:00"),
    ("callback_time", datetime(2026, 11, 24, 15), "2026-11-24T15:00:00+08:00"),
    ("next_callback", "2026-11-23", "2026-11-23"),  # today is not the past
    ("next_callback", date(2027, 2, 20), "2027-02-20"),
    ("birthday", "--06-01", "--06-01"), ("birthday", "06-01", "--06-01"),
    ("birthday", "6月1日", "--06-01"), ("birthday", MonthDay(2, 29), "--02-29"),
    ("birthday", "1985-06-01", "1985-06-01"), ("birthday", date(1985, 6, 1), "1985-06-01"),
    ("score", "7", 7), ("score", 7, 7),
]


@pytest.mark.parametrize(("name", "value", "kept"), GOOD)
def test_documented_forms_are_taken(flows: dict[str, Flow], name: str, value: Any,
                                    kept: Any) -> None:
    call, answer = at(flows, name)
    captures = {k: v for k, v in OTHER.items()
                if any(c.name == k for c in call.step.answers[answer].captures)}
    call.answer(answer, captures | {name: value})
    assert call.record().captures[name] == kept
    again = Call.restore(call.flow, call.snapshot_json(), call.context)
    assert again.captured[name] == call.captured[name]


def test_a_decimal_capture_takes_numbers_and_number_text() -> None:
    from callscript.captures import validate_captures
    from callscript.spec import CaptureSpec

    spec = CaptureSpec(name="amount", type="decimal", label="金额")
    for raw, kept in [("12.50", Decimal("12.50")), (12, Decimal(12)), (12.5, Decimal("12.5"))]:
        assert validate_captures((spec,), {"amount": raw}) == {"amount": kept}
    for raw in (True, "1e5", "NaN", float("inf"), "十二"):
        with pytest.raises(ValueError, match="'amount'"):
            validate_captures((spec,), {"amount": raw})


@pytest.mark.parametrize("captures", [[("address", "x")], "address=x", 5, {"address"}])
def test_captures_must_be_a_mapping(flows: dict[str, Flow], captures: Any) -> None:
    call, answer = at(flows, "address")
    before = call.snapshot_json()
    with pytest.raises(ArgumentError, match=r"^captures must be a mapping") as caught:
        call.answer(answer, captures)
    assert isinstance(caught.value, TypeError) and caught.value.parameter == "captures"
    assert call.snapshot_json() == before


@pytest.mark.parametrize("key", [1, None, ("address",), "13812345678"])
def test_unknown_capture_names_are_not_echoed(flows: dict[str, Flow], key: Any) -> None:
    call, answer = at(flows, "address")
    before = call.snapshot_json()
    with pytest.raises(CaptureRejected, match="a name that is not captured here") as caught:
        call.answer(answer, {"address": "文三路1号", key: "x"})
    assert "13812345678" not in str(caught.value)
    assert call.snapshot_json() == before


@pytest.mark.parametrize("given", ["13812345678", "杭州市文三路100号", "maybe", ""])
def test_unknown_answer_and_interruption_ids_are_not_echoed(flows: dict[str, Flow],
                                                            given: str) -> None:
    call = first_visit(flows, [("answered", {})])
    before = call.snapshot_json()
    for move in (call.answer, call.interrupt):
        with pytest.raises(AnswerRejected) as caught:
            move(given)
        assert caught.value.given is None and "allowed here: " in str(caught.value)
        if given:
            assert given not in str(caught.value)
    assert call.snapshot_json() == before


def test_an_answer_of_the_step_that_is_not_offered_is_named() -> None:
    guarded = load_flows(FIXTURES / "good" / "guarded.yaml")["guarded"]
    call = Call.start(guarded, {"billing": {"last_month": "100", "this_month": "100"},
                                "deployment": {"hotline": "10010"}})
    with pytest.raises(AnswerRejected) as caught:
        call.answer("explain_drop")  # the step has it; its guard hides it
    assert caught.value.given == "explain_drop" and "'explain_drop'" in str(caught.value)


@pytest.mark.parametrize(("call_it", "parameter"), [
    (lambda c: c.answer(5), "answer_id"),
    (lambda c: c.answer(None), "answer_id"),
    (lambda c: c.answer(["confirmed"]), "answer_id"),
    (lambda c: c.interrupt(3), "interruption_id"),
    (lambda c: c.answer("confirmed", revision="2"), "revision"),
    (lambda c: c.answer("confirmed", revision=True), "revision"),
    (lambda c: c.answer("confirmed", turn_id=5), "turn_id"),
    (lambda c: c.answer("confirmed", turn_id=""), "turn_id"),
    (lambda c: c.answer("confirmed", turn_id="t" * 201), "turn_id"),
    (lambda c: c.resume(captures=[1]), "captures"),
    (lambda c: c.subscribe("print"), "listener"),
])
def test_wrong_argument_types_name_the_parameter(flows: dict[str, Flow], call_it: Any,
                                                 parameter: str) -> None:
    call = first_visit(flows, [("answered", {})])
    before = call.snapshot_json()
    with pytest.raises(ArgumentError) as caught:
        call_it(call)
    assert caught.value.parameter == parameter and str(caught.value).startswith(parameter)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, CallscriptError)
    assert call.snapshot_json() == before


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"flow": "first_visit"}, "flow"),
    ({"context": [("customer", {})]}, "context"),
    ({"context": "王先生 13812345678"}, "context"),
    ({"clock": "now"}, "clock"),
    ({"clock": lambda: datetime(2026, 11, 23, 10)}, "clock"),  # naive
    ({"clock": lambda: 1700000000}, "clock"),
    ({"listeners": 5}, "listeners"),
    ({"listeners": ["print"]}, "listeners"),
    ({"ids": lambda: 5}, "ids"),
])
def test_start_refuses_wrong_argument_types(flows: dict[str, Flow], kwargs: dict[str, Any],
                                            parameter: str) -> None:
    args = {"flow": flows["first_visit"], "context": context_for("first_visit")} | kwargs
    with pytest.raises(ArgumentError) as caught:
        Call.start(**args)
    assert caught.value.parameter == parameter
    assert "13812345678" not in str(caught.value)


def test_restore_refuses_wrong_argument_types(flows: dict[str, Flow]) -> None:
    call = first_visit(flows, [("answered", {})])
    with pytest.raises(ArgumentError, match=r"^flow"):
        Call.restore("first_visit", call.snapshot(), call.context)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"^context"):
        Call.restore(call.flow, call.snapshot(), ["customer"])  # type: ignore[arg-type]
