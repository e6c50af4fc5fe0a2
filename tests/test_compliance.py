"""The norms as code: wording, goodbye, hold, deadlines, escalation, privacy, objections."""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import callscript
from callscript import (
    AnswerRejected,
    Call,
    CallEvent,
    FlowError,
    PrivacyFilter,
    SteppingClock,
    builtin_flows,
)
from callscript.rules.calendar import CHINA, add_working_days
from callscript.rules.wording import DEFAULT_FORBIDDEN
from callscript.testing import random_walk, sample_capture
from callscript.testing.strategies import addresses, birthdays, contexts, home_phones, phones, walks

from .conftest import context_for

FLOWS = builtin_flows()
FLOW_IDS = sorted(FLOWS)


def spoken(call: Call) -> list[str]:
    return [line for entry in call.record().path for line in entry.lines]


# -- wording -----------------------------------------------------------------------

@given(data=st.data(), flow_id=st.sampled_from(FLOW_IDS))
def test_no_rendered_line_breaks_the_wording_rules(data: st.DataObject, flow_id: str) -> None:
    call, _moves = data.draw(walks(FLOWS[flow_id]), label="walk")
    for line in spoken(call):
        assert not [p for p in DEFAULT_FORBIDDEN if p in line], line


def test_a_deployment_adds_forbidden_phrases() -> None:
    with pytest.raises(FlowError) as caught:
        builtin_flows(extra_forbidden=["免费"])
    problems = {(p.file, p.line, p.message) for p in caught.value.problems}
    library = Path(callscript.__file__).parent / "libraries" / "telecom"
    source = (library / "first_visit.yaml").read_text("utf-8")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "通话是免费的" in text)
    assert ("callscript/libraries/telecom/first_visit.yaml", line,
            "agent line contains the forbidden phrase '免费'") in problems
    assert any(p[0] == "callscript/libraries/telecom/zero_usage.yaml" for p in problems)


# -- every path that reached the customer ends with a goodbye ------------------------

@given(flow_id=st.sampled_from(FLOW_IDS), seed=st.integers(0, 2**32))
def test_every_call_that_reached_the_customer_says_goodbye(flow_id: str, seed: int) -> None:
    call, _moves = random_walk(FLOWS[flow_id], context_for(flow_id), random.Random(seed))
    record = call.record()
    lines = spoken(call)
    if not lines or record.disposition.id == "hung_up":  # never reached, or the line dropped
        assert record.disposition.id in ("no_answer", "hung_up")
        return
    assert "再见" in lines[-1]
    assert record.waited_for_customer_hangup


# -- hold -------------------------------------------------------------------------------

def test_the_hold_limit_is_the_deployments(clock: SteppingClock) -> None:
    base = context_for("second_visit")
    context = base | {"deployment": base["deployment"] | {"max_hold_seconds": 60}}
    call = Call.start(FLOWS["second_visit"], context, clock=clock)
    call.hold()
    clock.advance(timedelta(seconds=61))
    assert call.time_limit_seconds() == 60 and call.time_up()
    with pytest.raises(AnswerRejected, match=r"longer than 60 seconds at step 'hold\.wait'"):
        call.answer("back")


def test_can_not_answer_now_is_a_path_of_its_own(clock: SteppingClock) -> None:
    call = Call.start(FLOWS["second_visit"], context_for("second_visit"), clock=clock)
    call.interrupt("answer_later")
    assert "请您先挂机,我查清楚后马上给您回电话" in call.prompt.lines[0]
    call.answer("agrees", {"open_question": "国际漫游怎么收费"})
    record = call.record()
    assert record.disposition.id == "callback_scheduled"
    assert (record.follow_ups[0].kind, record.follow_ups[0].due) == ("answer_question",
                                                                    date(2026, 11, 26))


# -- escalation ---------------------------------------------------------------------------

def test_serious_complaint_is_escalated_with_event_record_and_explanation() -> None:
    events: list[CallEvent] = []
    call = Call.start(FLOWS["first_visit"], context_for("first_visit"), listeners=[events.append])
    call.answer("answered")
    call.answer("confirmed")
    call.interrupt("dissatisfied")
    call.answer("serious", {"objection_topic": "服务", "objection_text": "营业厅拒绝办理业务"})
    assert call.prompt.lines == ("非常抱歉给您带来不便,您反映的问题我会马上向上级汇报,并尽快给您答复。",)
    assert [e.detail.reason for e in events if e.kind == "escalated"] == ["重大服务质量投诉或紧急情况"]
    assert call.record().escalations[0].step == "dissatisfied.escalate"


# -- deadlines on the official calendar ---------------------------------------------------

@pytest.mark.parametrize(("start", "due"), [
    # Spring Festival 2026: 15-23 Feb off, Saturday 14 Feb a make-up working day
    (date(2026, 2, 12), date(2026, 2, 24)),
    (date(2026, 2, 13), date(2026, 2, 25)),
    # National Day 2025: 1-8 Oct off, Sunday 28 Sep and Saturday 11 Oct working days
    (date(2025, 9, 26), date(2025, 9, 30)),
    (date(2025, 9, 30), date(2025, 10, 11)),  # Thu 9, Fri 10, and the make-up Saturday
    # an ordinary week
    (date(2026, 11, 23), date(2026, 11, 26)),
])
def test_three_working_days_on_the_official_calendar(start: date, due: date) -> None:
    assert add_working_days(start, 3) == (due, False)


def test_past_the_published_years_weekdays_are_estimated() -> None:
    # 2027's holidays are not published in the calendar package: Monday-Friday, marked
    assert add_working_days(date(2027, 2, 5), 3) == (date(2027, 2, 10), True)


def test_a_complaint_over_spring_festival_is_due_after_it() -> None:
    clock = SteppingClock(datetime(2026, 2, 12, 16, 0, tzinfo=CHINA), timedelta(seconds=10))
    call = Call.start(FLOWS["second_visit"], context_for("second_visit"), clock=clock)
    call.interrupt("dissatisfied")
    call.answer("accepts", {"objection_topic": "话费", "objection_text": "套餐太贵"})
    (complaint,) = call.record().complaints
    assert complaint.reply_due == date(2026, 2, 24) and not complaint.estimated
    assert ("reply_complaint", date(2026, 2, 24)) in [(f.kind, f.due) for f in
                                                      call.record().follow_ups]


def test_due_dates_use_china_time_not_utc() -> None:
    # 2026-11-23 17:00 UTC is already Tuesday 24th in Beijing
    clock = SteppingClock(datetime.fromisoformat("2026-11-23T17:00:00+00:00"), timedelta(seconds=1))
    call = Call.start(FLOWS["first_visit"], context_for("first_visit"), clock=clock)
    for answer in ("answered", "confirmed", "agrees"):
        call.answer(answer)
    assert call.record().follow_ups[0].due == date(2026, 12, 9)  # 24th + 15 days


# -- objection handling (seed 004, 第五节) ----------------------------------------------------

def test_dissatisfaction_follows_listen_empathise_clarify_present_close() -> None:
    flow = FLOWS["second_visit"]
    explain = [note.source[:2] for note in flow.steps["dissatisfied.explain"].notes]
    close = [note.source[:2] for note in flow.steps["dissatisfied.thanks"].notes]
    assert explain + close == ["倾听", "同理", "澄清", "陈述", "结束"]
    lines = flow.render_step("dissatisfied.explain", Call.start(
        flow, context_for("second_visit")).context)
    assert lines[0] == "请您不要着急,我会马上为您解释(或查询);"


# -- privacy ---------------------------------------------------------------------------------

PERSONAL = st.fixed_dictionaries({
    "phone": phones, "home_phone": home_phones, "address": addresses, "birthday": birthdays,
    "user_phone": phones, "delivery_address": addresses, "callback_phone": phones,
})


def _with_personal_data(call: Call, rng: random.Random, personal: dict[str, Any],
                        errors: list[str]) -> None:
    """Walk to the end, feeding generated personal data wherever it is captured."""
    while not call.ended:
        prompt = call.prompt
        if prompt.interruptions and rng.random() < 0.2:
            call.interrupt(rng.choice(prompt.interruptions).id)
            continue
        option = rng.choice(prompt.answers)
        today = call.updated_at.astimezone(CHINA).date()  # appointments lie ahead of it
        captures = {c.name: personal[c.name] if c.name in personal
                    else sample_capture(c, rng, today) for c in option.captures}
        if any(c.sensitive for c in option.captures):  # a typo first: the error must not echo
            bad = {k: f"{v}?!" if k in personal else v for k, v in captures.items()}
            try:
                call.answer(option.id, bad | {"address": f"{personal['address']}", "oops": 1})
            except AnswerRejected as err:
                errors.append(str(err))
        call.answer(option.id, captures)


@given(personal=PERSONAL, seed=st.integers(0, 2**32), flow_id=st.sampled_from(FLOW_IDS))
def test_personal_data_never_leaks(personal: dict[str, Any], seed: int, flow_id: str) -> None:
    secrets = [personal["phone"], personal["home_phone"], personal["address"],
               personal["birthday"].isoformat(), personal["user_phone"],
               personal["delivery_address"], personal["callback_phone"]]
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    events: list[CallEvent] = []
    errors: list[str] = []
    try:
        context = context_for(flow_id)
        context["customer"] = context["customer"] | {"phone": personal["phone"]}
        call = Call.start(FLOWS[flow_id], context, listeners=[events.append])
        _with_personal_data(call, random.Random(seed), personal, errors)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    record = call.record()
    exposed = [*handler.messages, *errors, repr(call), str(call), repr(record), str(record),
               repr(call.prompt), *map(repr, record.path), *map(repr, record.complaints),
               *map(repr, events), record.redacted().model_dump_json()]
    for text in exposed:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into {text[:80]!r}"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_privacy_filter_covers_a_hosts_own_logger(caplog: pytest.LogCaptureFixture) -> None:
    host = logging.getLogger("host.crm")
    host.addFilter(PrivacyFilter())
    with caplog.at_level(logging.INFO, logger="host.crm"):
        host.info("calling %s about %s", "13812345678", "话费")
    assert caplog.messages == ["calling 138****5678 about 话费"]


def test_contexts_strategy_reaches_the_spending_drop_boundary() -> None:
    seen: list[bool] = []

    @given(contexts(FLOWS["spending_drop"], applicable=False))
    def collect(context: Any) -> None:
        seen.append(context.billing.this_month == context.billing.last_month)

    collect()
    assert any(seen), "the strategy never drew equal bills"
