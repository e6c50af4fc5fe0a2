"""The Call contract: prompt, answers, rejections, interruptions, hold, events, context."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from callscript import (
    AnswerRejected,
    Call,
    CallEnded,
    CallEvent,
    CaptureRejected,
    ContextError,
    Flow,
    NotApplicableError,
    SteppingClock,
    sequential_ids,
)
from callscript.runtime import MAX_INTERRUPTION_DEPTH

from .conftest import CUSTOMER, context_for


def start(flows: dict[str, Flow], flow_id: str = "first_visit", clock: Any = None,
          **kwargs: Any) -> Call:
    extra = {"clock": clock} if clock is not None else {}
    return Call.start(flows[flow_id], context_for(flow_id), **extra, **kwargs)


def to_introduce(call: Call) -> Call:
    call.answer("answered")
    call.answer("confirmed")
    assert call.prompt.step == "introduce"
    return call


def test_prompt_shows_lines_notes_answers_and_interruptions(flows: dict[str, Flow]) -> None:
    call = start(flows)
    prompt = call.answer("answered")
    assert prompt.step == "identity.confirm_name"
    assert prompt.lines == ("您好,您是王先生吗?",)
    assert prompt.notes == ("也可核实客户手机号码",)
    assert [a.id for a in prompt.answers] == ["confirmed", "name_mismatch", "wrong_number"]
    assert {"busy", "not_holder", "hold", "hung_up"} <= {i.id for i in prompt.interruptions}
    assert not prompt.terminal and prompt.disposition is None


def test_unknown_answer_is_rejected_naming_what_is_allowed(flows: dict[str, Flow]) -> None:
    call = to_introduce(start(flows))
    before = call.snapshot()
    with pytest.raises(AnswerRejected) as caught:
        call.answer("maybe")
    assert caught.value.allowed == ("agrees", "no_time")
    assert "allowed here: agrees, no_time" in str(caught.value)
    assert call.snapshot() == before


def test_invalid_capture_is_rejected_without_echoing_the_value(flows: dict[str, Flow]) -> None:
    call = start(flows)
    for answer in ("answered", "confirmed", "agrees", "all_fine", "no_questions"):
        call.answer(answer)
    assert call.prompt.step == "in_call.address"
    before = call.snapshot()
    with pytest.raises(CaptureRejected) as caught:
        call.answer("gives", {"address": "杭州市文三路1号", "home_phone": "call me 555"})
    assert "'home_phone' (住宅电话) must be a phone number" in str(caught.value)
    assert "555" not in str(caught.value) and "文三路" not in str(caught.value)
    with pytest.raises(CaptureRejected, match=r"'address' .* is required"):
        call.answer("gives", {})
    with pytest.raises(CaptureRejected, match="a name that is not captured here") as caught:
        call.answer("gives", {"address": "x", "shoe_size": 42})
    assert "shoe_size" not in str(caught.value)
    assert call.snapshot() == before


def test_interruption_returns_to_the_step_left(flows: dict[str, Flow]) -> None:
    call = to_introduce(start(flows))
    call.interrupt("handset")
    assert call.prompt.step == "handset.suggest_check"
    call.answer("will_check", {"handset_problem": "经常死机"})
    assert call.prompt.step == "introduce"
    assert call.prompt.lines[0].startswith("我是联通公司客户服务人员")
    path = call.record().path
    assert path[-3].step == "introduce" and path[-3].interruption == "handset"


def test_interruptions_nest_up_to_a_limit(flows: dict[str, Flow]) -> None:
    call = to_introduce(start(flows))
    for _ in range(MAX_INTERRUPTION_DEPTH):
        call.interrupt("dissatisfied")
    assert call.prompt.interruptions == ()
    with pytest.raises(AnswerRejected, match="cannot be raised"):
        call.interrupt("dissatisfied")


def test_interruption_can_end_the_call(flows: dict[str, Flow]) -> None:
    call = to_introduce(start(flows))
    call.interrupt("busy")
    call.answer("refuses")
    assert call.ended and call.record().disposition.id == "refused"
    assert call.prompt.lines == ("打扰您了!", "再见")
    with pytest.raises(CallEnded):
        call.answer("agrees")
    with pytest.raises(CallEnded):
        call.interrupt("busy")


def test_no_interruption_before_the_customer_answers(flows: dict[str, Flow]) -> None:
    call = start(flows)
    with pytest.raises(AnswerRejected, match="allowed here: none"):
        call.interrupt("busy")


def test_hold_within_three_minutes_returns(flows: dict[str, Flow], clock: SteppingClock) -> None:
    call = to_introduce(start(flows, clock=clock))
    prompt = call.hold()
    assert prompt.on_hold and prompt.lines == ("请您稍等一下",)
    clock.advance(timedelta(seconds=150))
    assert call.resume().step == "introduce"


def test_hold_over_three_minutes_becomes_a_callback(flows: dict[str, Flow],
                                                    clock: SteppingClock) -> None:
    call = to_introduce(start(flows, clock=clock))
    call.hold()
    clock.advance(timedelta(minutes=3, seconds=5))
    before = call.snapshot()
    with pytest.raises(AnswerRejected, match="longer than 180 seconds") as caught:
        call.answer("back")
    assert caught.value.allowed == ("too_long",)
    assert call.snapshot() == before
    prompt = call.resume()
    assert prompt.step == "hold.ask_number"
    assert "请您留下电话号码" in prompt.lines[0]
    call.answer("gives", {"callback_phone": "13912345678"})
    record = call.record()
    assert record.disposition.id == "callback_scheduled"
    assert [f.kind for f in record.follow_ups] == ["callback"]
    assert record.follow_ups[0].due == date(2026, 11, 23)
    assert record.waited_for_customer_hangup


def test_resume_without_hold_is_rejected(flows: dict[str, Flow]) -> None:
    with pytest.raises(AnswerRejected, match="not on hold"):
        to_introduce(start(flows)).resume()


def test_events_reach_subscribers_and_mask_personal_data(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    call = start(flows, "second_visit", listeners=[events.append])
    call.interrupt("not_holder")
    call.answer("gives", {"user_name": "王小明", "user_phone": "13700001234",
                          "relation_to_holder": "儿子"})
    call.interrupt("dissatisfied")
    call.answer("serious", {"objection_topic": "服务", "objection_text": "营业员态度差"})
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["started", "step_entered"]  # the start step is entered too
    assert kinds.count("step_entered") == 5 and "escalated" in kinds and "complaint" in kinds
    phone_event = next(e for e in events if e.kind == "captured" and e.detail[0] == "user_phone")
    assert phone_event.sensitive and "13700001234" not in repr(phone_event)
    assert phone_event.detail == ("user_phone", "13700001234")  # the host still gets the value


def test_ended_event_carries_the_outcome(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    call = start(flows, listeners=[events.append])
    call.answer("no_answer")
    assert events[-1].kind == "ended" and events[-1].detail == "no_answer"


def test_clock_and_ids_are_injectable(flows: dict[str, Flow], clock: SteppingClock) -> None:
    call = start(flows, clock=clock, ids=sequential_ids("t"))
    assert call.call_id == "t-1"
    assert call.record().started_at.isoformat() == "2026-11-23T10:00:00+08:00"


def test_missing_context_lists_the_fields(flows: dict[str, Flow]) -> None:
    with pytest.raises(ContextError) as caught:
        Call.start(flows["spending_drop"], {"customer": {"name": "赵"}})
    assert caught.value.missing == ("billing.last_month", "billing.this_month", "customer.title")
    assert "missing context fields: billing.last_month, billing.this_month, customer.title" in str(
        caught.value)


def test_invalid_context_names_the_field_not_the_value(flows: dict[str, Flow]) -> None:
    bad = {"customer": CUSTOMER | {"phone": "13812345678abc"}}
    with pytest.raises(ContextError) as caught:
        Call.start(flows["first_visit"], bad)
    assert "customer.phone" in str(caught.value) and "13812345678" not in str(caught.value)


@pytest.mark.parametrize(("last", "this"), [("50", "50"), ("40", "80")])
def test_spending_drop_needs_a_drop(flows: dict[str, Flow], last: str, this: str) -> None:
    context = context_for("spending_drop", last_month=last, this_month=this)
    with pytest.raises(NotApplicableError, match="this month's bill is not below last month's"):
        Call.start(flows["spending_drop"], context)


def test_zero_usage_needs_a_month(flows: dict[str, Flow]) -> None:
    with pytest.raises(NotApplicableError, match="neither"):
        Call.start(flows["zero_usage"], context_for("zero_usage", idle_since_month=None))


@pytest.mark.parametrize("name", ["{{ 7*7 }}", "<script>alert(1)</script>", "{% raw %}"])
def test_context_values_are_data_not_templates(flows: dict[str, Flow], name: str) -> None:
    context = context_for("second_visit")
    context["customer"] = CUSTOMER | {"name": name}
    call = Call.start(flows["second_visit"], context)
    assert call.prompt.lines[0].startswith(f"{name}先生您好")


def test_captured_values_are_data_too(flows: dict[str, Flow]) -> None:
    call = start(flows, "second_visit")
    call.answer("fine", {"feedback": "{{ 7*7 }}"})
    assert call.record().captures["feedback"] == "{{ 7*7 }}"


def test_snapshot_is_small_json(flows: dict[str, Flow]) -> None:
    call = to_introduce(start(flows))
    text = json.dumps(call.snapshot(), ensure_ascii=False)
    assert json.loads(text)["step"] == "introduce"
    assert len(text.encode()) < 2000


def guarded() -> Flow:
    from callscript import load_flows

    from .conftest import FIXTURES
    return load_flows(FIXTURES / "good" / "guarded.yaml")["guarded"]


@pytest.mark.parametrize(("this_month", "offered"), [
    ("40", ["explain_drop", "fine"]), ("100", ["fine"]), ("120", ["fine"])])
def test_a_guard_on_the_context_decides_what_is_offered(this_month: str,
                                                        offered: list[str]) -> None:
    call = Call.start(guarded(), {"billing": {"last_month": "100", "this_month": this_month},
                                   "deployment": {"hotline": "10010"}})
    assert [a.id for a in call.prompt.answers] == offered
    if "explain_drop" not in offered:
        before = call.snapshot()
        with pytest.raises(AnswerRejected) as caught:
            call.answer("explain_drop")
        assert caught.value.allowed == ("fine",) and call.snapshot() == before


@pytest.mark.parametrize(("score", "line", "offered"), [
    (2, "非常抱歉,我们会改进。", ["ask_why", "done"]), (5, "感谢您的肯定!", ["done"])])
def test_a_guard_on_a_captured_value(score: int, line: str, offered: list[str]) -> None:
    call = Call.start(guarded(), {"billing": {"last_month": "100", "this_month": "40"},
                                   "deployment": {"hotline": "10010"}})
    call.answer("fine")
    prompt = call.answer("scored", {"score": score})
    assert prompt.lines == (line,) and [a.id for a in prompt.answers] == offered
    call.answer(offered[0])
    assert call.prompt.step == "closing.thanks"
