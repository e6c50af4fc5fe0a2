"""Restore validates everything: shape, types, bounds, the flow, the end, the customer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from callscript import Call, Flow, SnapshotError, SteppingClock
from callscript.rules.calendar import CHINA

from .conftest import CUSTOMER, context_for

Damage = Callable[[dict[str, Any]], Any]


def mid_call(flows: dict[str, Flow]) -> Call:
    call = Call.start(flows["first_visit"], context_for("first_visit"),
                      clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA),
                                          timedelta(seconds=10)))
    for answer in ("answered", "confirmed", "agrees"):
        call.answer(answer)
    call.answer("feedback", {"feedback": "网速慢"})
    call.interrupt("wary")
    return call


def entry(i: int, **change: Any) -> Damage:
    def damage(s: dict[str, Any]) -> dict[str, Any]:
        path = [dict(e) for e in s["path"]]
        path[i] |= change
        return s | {"path": path}
    return damage


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


DAMAGED: list[tuple[str, Damage, str]] = [
    ("naive started_at", lambda s: s | {"started_at": "2026-11-23T10:00:00"}, "started_at"),
    ("non-ISO started_at", lambda s: s | {"started_at": "23/11/2026 10:00"}, "started_at"),
    ("number as time", lambda s: s | {"started_at": 1700000000}, "started_at"),
    ("naive path time", entry(0, at="2026-11-23T10:00:00"), "path[0].at"),
    ("version true", lambda s: s | {"version": True}, "version"),
    ("version text", lambda s: s | {"version": "1"}, "version"),
    ("version 1.0", lambda s: s | {"version": 1.0}, "version"),
    ("revision 0", lambda s: s | {"revision": 0}, "revision"),
    ("revision off", lambda s: s | {"revision": s["revision"] + 1}, "revision"),
    ("answer the step lacks", entry(1, answer="wrong_number_and_more"), "path[1].answer"),
    ("answer of another step", entry(0, answer="confirmed"), "path[0].answer"),
    ("both answer and interruption", entry(1, interruption="busy"), "path[1]"),
    ("neither", entry(1, answer=None), "path[1]"),
    ("unknown interruption", entry(4, interruption="dance", answer=None), "path[4]"),
    ("answer at the current step", entry(-1, answer="has_card"), "path[5]"),
    ("capture not taken by the answer", entry(3, captures={"address": "x"}), "path[3].captures"),
    ("capture of the wrong type", entry(3, captures={"feedback": 5}), "path[3].captures"),
    ("ended_at on a live step", lambda s: s | {"ended_at": s["started_at"]}, "ended_at"),
    ("unknown step", lambda s: s | {"step": "nowhere"}, "step"),
    ("unknown stack step", lambda s: s | {"stack": ["nowhere"]}, "stack[0]"),
    ("path ends elsewhere", lambda s: s | {"step": "listen"}, "step"),
    ("empty path", lambda s: s | {"path": []}, "path"),
    ("missing key", lambda s: {k: v for k, v in s.items() if k != "call_id"}, "call_id"),
    ("extra key", lambda s: s | {"13812345678": 1}, "snapshot"),
    ("outcome unknown", lambda s: s | {"outcome": "13812345678"}, "outcome"),
    ("nested value", entry(3, captures={"feedback": nested(5000)}), "path[3].captures"),
    ("nested lines", entry(0, lines=nested(100000)), "path[0].lines"),
    ("stack too deep", lambda s: s | {"stack": ["listen"] * 33}, "stack"),
    ("history too long", lambda s: s | {"path": s["path"] * 400}, "path"),
    ("turn ids past 16", lambda s: s | {"turns": [
        {"id": f"t{i}", "digest": "0" * 64, "revision": 1, "entry": 0, "depth": 0}
        for i in range(17)]}, "turns"),
    ("turn of a later revision", lambda s: s | {"turns": [
        {"id": "t", "digest": "0" * 64, "revision": 99, "entry": 0, "depth": 0}]}, "turns"),
    ("bad fingerprint", lambda s: s | {"context": {"salt": "x", "digest": "y"}}, "context.salt"),
    ("not a mapping", lambda s: [s], "a snapshot must be"),
]


@pytest.mark.parametrize(("damage", "field"), [(d, f) for _, d, f in DAMAGED],
                         ids=[name for name, _, _ in DAMAGED])
def test_damaged_snapshots_are_refused_naming_the_field(flows: dict[str, Flow], damage: Damage,
                                                        field: str) -> None:
    saved = damage(mid_call(flows).snapshot())
    for form in (saved, json.dumps(saved, ensure_ascii=False).encode()
                 if not _too_deep(saved) else None):
        if form is None:
            continue
        with pytest.raises(SnapshotError) as caught:
            Call.restore(flows["first_visit"], form, context_for("first_visit"))
        message = str(caught.value)
        assert field in message, message
        assert "13812345678" not in message and not message.endswith((": ", "(at )"))


def _too_deep(data: Any) -> bool:
    try:
        json.dumps(data)
    except RecursionError:
        return True
    return False


def test_deep_json_text_is_refused_without_recursion_error(flows: dict[str, Flow]) -> None:
    text = '{"format": "callscript.snapshot/2", "flow": ' + "[" * 200000 + "]" * 200000 + "}"
    for form in (text, text.encode()):
        with pytest.raises(SnapshotError):
            Call.restore(flows["first_visit"], form, context_for("first_visit"))


@pytest.mark.parametrize("raw", [
    b"\xff\xfe{}", "{\"format\": \"\\ud800\"}", b"{not json", "", b"", "[]", "null", "42",
])
def test_text_and_bytes_must_be_utf8_json_objects(flows: dict[str, Flow], raw: Any) -> None:
    with pytest.raises(SnapshotError) as caught:
        Call.restore(flows["first_visit"], raw, context_for("first_visit"))
    assert not str(caught.value).endswith((": ", "(at )"))


@pytest.mark.parametrize("raw", [None, 5, ["format"], {"format"}, object()])
def test_non_mappings_are_refused(flows: dict[str, Flow], raw: Any) -> None:
    with pytest.raises(SnapshotError, match="a snapshot must be"):
        Call.restore(flows["first_visit"], raw, context_for("first_visit"))


def test_lone_surrogates_in_lines_are_refused(flows: dict[str, Flow]) -> None:
    saved = entry(1, lines=["您好\ud800"])(mid_call(flows).snapshot())
    with pytest.raises(SnapshotError, match="invalid Unicode"):
        Call.restore(flows["first_visit"], saved, context_for("first_visit"))
    with pytest.raises(SnapshotError, match="invalid Unicode"):
        Call.restore(flows["first_visit"], json.dumps(saved), context_for("first_visit"))


def test_bytes_text_and_data_restore_alike(flows: dict[str, Flow]) -> None:
    call = mid_call(flows)
    context = context_for("first_visit")
    forms = [call.snapshot(), call.snapshot_json(), call.snapshot_json().decode(),
             bytearray(call.snapshot_json()), json.loads(json.dumps(call.snapshot()))]
    restored = [Call.restore(flows["first_visit"], form, context) for form in forms]
    assert all(r.snapshot_json() == call.snapshot_json() for r in restored)


def test_another_customers_context_is_refused(flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot_json()
    other = context_for("first_visit")
    other["customer"] = CUSTOMER | {"phone": "13900001111"}
    with pytest.raises(SnapshotError, match="customer or billing") as caught:
        Call.restore(flows["first_visit"], saved, other)
    assert "13900001111" not in str(caught.value) and "13812345678" not in str(caught.value)
    with pytest.raises(SnapshotError, match="customer or billing"):
        Call.restore(flows["first_visit"], saved, context_for("first_visit", this_month="41"))


def test_agent_and_deployment_may_change_between_requests(flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot_json()
    context = context_for("first_visit")
    context["agent"] = {"id": "A9", "name": "张伟", "phone": "0571-86009999"}
    context["deployment"] = {"hotline": "96000", "service_centre": "西湖营业厅"}
    call = Call.restore(flows["first_visit"], saved, context)
    assert call.record().agent_id == "A9"


def test_equal_amounts_written_differently_are_one_customer(flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot_json()
    Call.restore(flows["first_visit"], saved, context_for("first_visit", this_month="40.00"))


def test_the_fingerprint_is_salted_per_call(flows: dict[str, Flow]) -> None:
    one, two = mid_call(flows).snapshot(), mid_call(flows).snapshot()
    assert one["context"]["salt"] != two["context"]["salt"]
    assert one["context"]["digest"] != two["context"]["digest"]
    assert "13812345678" not in json.dumps(one["context"])


def test_old_format_is_refused_saying_so(flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot()
    old = {k: v for k, v in saved.items() if k not in ("revision", "turns", "events", "context")}
    old["format"] = "callscript.snapshot/1"
    for form in (old, json.dumps(old)):
        with pytest.raises(SnapshotError, match=r"callscript\.snapshot/1 is no longer restored"):
            Call.restore(flows["first_visit"], form, context_for("first_visit"))


def test_a_terminal_step_needs_its_end_time(flows: dict[str, Flow]) -> None:
    call = Call.start(flows["first_visit"], context_for("first_visit"))
    call.answer("no_answer")
    saved = call.snapshot() | {"ended_at": None}
    with pytest.raises(SnapshotError, match="ended_at"):
        Call.restore(flows["first_visit"], saved, context_for("first_visit"))


def test_a_choice_value_outside_its_choices_is_refused(flows: dict[str, Flow]) -> None:
    call = Call.start(flows["second_visit"], context_for("second_visit"),
                      clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA)))
    call.interrupt("dissatisfied")
    call.answer("serious", {"objection_topic": "服务", "objection_text": "营业员态度差"})
    saved = call.snapshot()
    taken = next(i for i, e in enumerate(saved["path"]) if "objection_topic" in e.get("captures", {}))
    assert Call.restore(flows["second_visit"], saved, context_for("second_visit")).captured[
        "objection_topic"] == "服务"  # as saved: restored
    damaged = entry(taken, captures=saved["path"][taken]["captures"] | {"objection_topic": "网络"})
    with pytest.raises(SnapshotError) as caught:
        Call.restore(flows["second_visit"], damaged(saved), context_for("second_visit"))
    assert str(caught.value) == f"snapshot field path[{taken}].captures holds an invalid value"
