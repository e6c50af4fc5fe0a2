"""Events: documented kinds and payloads, sequence numbers, revisions, one clock reading."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from callscript import (
    Call,
    CallEvent,
    Complaint,
    Escalation,
    Flow,
    FollowUp,
    SteppingClock,
    sequential_ids,
)
from callscript.rules.calendar import CHINA

from .conftest import context_for

START = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)


class CountingClock(SteppingClock):
    """A stepping clock that counts its readings."""

    readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return super().__call__()


def test_started_comes_first_with_the_flow(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    Call.start(flows["first_visit"], context_for("first_visit"), ids=sequential_ids(),
               clock=SteppingClock(START), listeners=[events.append])
    started, entered = events
    assert started.kind == "started" and started.detail == {"flow": "first_visit", "version": 2}
    assert (started.call_id, started.seq, started.revision, started.at) == ("call-1", 1, 1, START)
    assert entered.kind == "step_entered" and entered.detail == "prepare" and entered.seq == 2


def test_every_event_of_a_call_is_numbered_and_timed(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    clock = CountingClock(START, timedelta(seconds=10))
    call = Call.start(flows["second_visit"], context_for("second_visit"), clock=clock,
                      listeners=[events.append])
    call.interrupt("not_holder")
    call.answer("gives", {"user_name": "王小明", "user_phone": "13700001234",
                          "relation_to_holder": "儿子"})
    call.interrupt("dissatisfied")
    saved = call.snapshot_json()
    call = Call.restore(flows["second_visit"], saved, context_for("second_visit"), clock=clock,
                        listeners=[events.append])
    call.answer("serious", {"objection_topic": "服务", "objection_text": "营业员态度差"})
    call.answer("continue", {"escalation_text": "营业员态度差"})  # escalated, then the complaint
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # across the restore
    assert clock.readings == call.revision  # the start and each turn: one reading each
    by_revision: dict[int, set[datetime]] = {}
    for event in events:
        by_revision.setdefault(event.revision, set()).add(event.at)
    assert all(len(times) == 1 for times in by_revision.values())
    assert sorted(by_revision) == list(range(1, call.revision + 1))
    kinds = [e.kind for e in events]
    assert {"captured", "step_entered", "escalated", "complaint", "follow_up"} <= set(kinds)
    details = {e.kind: e.detail for e in events}
    assert isinstance(details["escalated"], Escalation)
    assert isinstance(details["complaint"], Complaint)
    assert isinstance(details["follow_up"], FollowUp)
    # what the host acts on: due in 3 working days from Monday 23 November
    assert details["follow_up"] == FollowUp(kind="reply_complaint", due=date(2026, 11, 26),
                                            estimated=False, note="3个工作日内答复客户",
                                            step="escalate.report")
    assert (details["escalated"].reason, details["escalated"].step) == (
        "重大服务质量投诉或紧急情况", "escalate.report")
    assert (details["complaint"].kind, details["complaint"].reply_due) == (
        "complaint", date(2026, 11, 26))
    follow_ups = [e for e in events if e.kind == "follow_up"]
    assert len(follow_ups) == 1 and follow_ups[0].step == "escalate.report"


def test_captured_comes_before_the_step_entered_and_ended_last(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    call = Call.start(flows["first_visit"], context_for("first_visit"), listeners=[events.append])
    call.answer("no_answer")
    assert [e.kind for e in events][-2:] == ["step_entered", "ended"]
    assert events[-1].detail == "no_answer" and events[-1].revision == 2


def test_restoring_emits_nothing_and_numbering_goes_on(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    call = Call.start(flows["first_visit"], context_for("first_visit"), listeners=[events.append])
    call.answer("answered")
    last = events[-1].seq
    later: list[CallEvent] = []
    again = Call.restore(flows["first_visit"], call.snapshot(), context_for("first_visit"),
                         listeners=[later.append])
    assert later == []
    again.answer("confirmed")
    assert later[0].seq == last + 1


def test_event_reprs_mask_personal_data(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    call = Call.start(flows["second_visit"], context_for("second_visit"), listeners=[events.append])
    call.interrupt("not_holder")
    call.answer("gives", {"user_name": "王小明", "user_phone": "13700001234",
                          "relation_to_holder": "儿子"})
    call.interrupt("dissatisfied")
    call.answer("serious", {"objection_topic": "服务",
                            "objection_text": "营业员态度差,打我电话13700001234或12345"})
    shown = " ".join(repr(e) for e in events)
    for secret in ("13700001234", "12345", "王小明", "营业员态度差"):
        assert secret not in shown, secret
    phone = next(e for e in events if e.kind == "captured" and e.detail[0] == "user_phone")
    assert phone.sensitive and phone.detail == ("user_phone", "13700001234")  # the host gets it
