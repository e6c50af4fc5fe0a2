"""The CRM record: contents, JSON round trip, redaction."""

from __future__ import annotations

from datetime import date

from callscript import Call, CallRecord, Flow, SteppingClock, sequential_ids

from .conftest import context_for


def full_first_visit(flows: dict[str, Flow], clock: SteppingClock) -> CallRecord:
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=clock,
                      ids=sequential_ids())
    for answer, captures in [
        ("answered", {}), ("name_mismatch", {}), ("confirmed", {}), ("agrees", {}),
        ("feedback", {"feedback": "地下室没信号"}), ("no_questions", {}),
        ("gives", {"address": "杭州市西湖区文三路100号", "home_phone": "0571-87650000"}),
        ("declines", {}), ("gives", {"birthday": "1985-06-01"}), ("next", {}),
        ("wants", {"callback_frequency": "每季度一次", "next_callback": "2027-02-20"}),
    ]:
        call.answer(answer, captures)
    return call.record()


def test_record_holds_path_captures_and_follow_ups(flows: dict[str, Flow],
                                                   clock: SteppingClock) -> None:
    record = full_first_visit(flows, clock)
    assert record.call_id == "call-1" and record.agent_id == "A1" and record.customer_ref == "C-1"
    assert record.disposition.id == "completed" and record.waited_for_customer_hangup
    assert [e.step for e in record.path][:4] == [
        "prepare", "identity.confirm_name", "identity.confirm_phone", "introduce"]
    assert record.path[2].lines == ["您是13812345678号客户吗?"]
    assert record.path[2].answer == "confirmed"
    assert record.captures["birthday"] == "1985-06-01"
    assert [(f.kind, f.due) for f in record.follow_ups] == [
        ("new_customer", date(2026, 12, 8)), ("second_visit", date(2027, 2, 20))]
    assert record.ended_at is not None and record.ended_at > record.started_at


def test_record_survives_a_json_round_trip(flows: dict[str, Flow], clock: SteppingClock) -> None:
    record = full_first_visit(flows, clock)
    again = CallRecord.model_validate_json(record.model_dump_json())
    assert again == record


def test_redacted_masks_personal_data_everywhere(flows: dict[str, Flow],
                                                 clock: SteppingClock) -> None:
    record = full_first_visit(flows, clock)
    text = record.redacted().model_dump_json()
    for secret in ("13812345678", "文三路100号", "87650000", "1985-06-01"):
        assert secret not in text
    assert "138****5678" in text
    assert "地下室没信号" in text  # not personal data: kept


def test_repr_shows_no_captures_or_lines(flows: dict[str, Flow], clock: SteppingClock) -> None:
    record = full_first_visit(flows, clock)
    assert "文三路" not in repr(record) and "13812345678" not in str(record)
    assert repr(record).startswith("CallRecord(call_id='call-1'")


def test_a_midnight_appointment_stays_a_datetime() -> None:
    from datetime import datetime

    from callscript import FollowUp
    from callscript.rules.calendar import CHINA

    at_midnight = FollowUp(kind="callback", due=datetime(2027, 1, 26, tzinfo=CHINA), step="s")
    day = FollowUp(kind="callback", due=date(2027, 1, 26), step="s")
    assert FollowUp.model_validate_json(at_midnight.model_dump_json()) == at_midnight
    assert FollowUp.model_validate_json(day.model_dump_json()) == day
    assert type(FollowUp.model_validate_json(day.model_dump_json()).due) is date


def test_reprs_of_prompts_and_path_entries_hide_personal_data(flows: dict[str, Flow]) -> None:
    from callscript import Call

    call = Call.start(flows["first_visit"], context_for("first_visit"))
    call.answer("answered")
    prompt = call.answer("name_mismatch")
    assert prompt.lines == ("您是13812345678号客户吗?",)  # the agent must see it
    assert "13812345678" not in repr(prompt) and "138****5678" in repr(prompt)
    call.answer("confirmed")
    for answer, captures in [("agrees", {}), ("all_fine", {}), ("no_questions", {}),
                             ("gives", {"address": "杭州市文三路100号"})]:
        call.answer(answer, captures)
    entries = call.record().path
    assert "文三路" not in repr(entries[-2]) and "captured=['address']" in repr(entries[-2])
    assert "13812345678" not in repr(entries[2])
