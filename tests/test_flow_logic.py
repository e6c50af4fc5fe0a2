"""Issue #18: the built-in flows follow the seed in logic: each fix as a transcript.

Each test walks a real built-in flow and checks the path, the lines in the order
said, and what the record holds (remarks, follow-ups with due dates, dispositions).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from callscript import Call, Flow, NotApplicableError, SteppingClock, builtin_flows
from callscript.rules.calendar import CHINA
from callscript.testing.paths import path_cover, replay_case

from .conftest import context_for

Moves = list[tuple[str, dict[str, Any]] | str]  # an answer (id, captures), or "!interruption"

BUSY_GOODBYE = "我们的服务一定会给您带来很多方便，打扰您了，再见"
INTRO = "我是联通公司客户服务人员，欢迎您使用联通133（130）手机业务，请问能占用您几分钟时间吗？"
CLOSING = ["非常感谢您对我工作的支持，如果您有联通业务方面的问题，可随时拨打客户经理服务热线，"
           "电话是10010，我将会为您提供竭诚的服务。", "打扰您了！", "再见"]


def clock() -> SteppingClock:  # Monday 23 November 2026, 10:00 in Beijing
    return SteppingClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA), timedelta(seconds=10))


def walk(flow: Flow, moves: Moves, context: dict[str, Any] | None = None) -> Call:
    call = Call.start(flow, context or context_for(flow.id), clock=clock())
    for move in moves:
        if isinstance(move, str):
            call.interrupt(move.removeprefix("!"))
        else:
            call.answer(*move)
    return call


def steps(call: Call) -> list[str]:
    return [e.step for e in call.record().path]


def said(call: Call) -> list[str]:
    return [line for e in call.record().path for line in e.lines]


def a(answer_id: str, **captures: Any) -> tuple[str, dict[str, Any]]:
    return (answer_id, captures)


def customer(**fields: Any) -> dict[str, Any]:
    base = context_for("first_visit")
    return base | {"customer": base["customer"] | fields}


TO_LISTEN: Moves = [a("answered"), a("confirmed"), a("agrees")]


# -- 1. busy or refusing: the time first, 改日/明天 when none, one goodbye at the end ----------

def test_busy_asks_the_time_first_then_proposes_tomorrow_and_says_goodbye_once(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [
        a("answered"), a("confirmed"), a("no_time"), a("no_time"),
        a("agrees", callback_time="2026-11-24T10:00:00+08:00")])
    assert steps(call)[-3:] == ["busy.ask_time", "busy.propose_tomorrow", "busy.rescheduled"]
    assert said(call)[-3:] == ["请问您什么时间有空，再与您联系，", "我们改日再联系，或明天，您认为可以吗？",
                               BUSY_GOODBYE]
    assert sum(line.count("再见") for line in said(call)) == 1
    record = call.record()
    assert record.disposition.id == "rescheduled" and record.waited_for_customer_hangup
    assert [(f.kind, f.due) for f in record.follow_ups] == [
        ("callback", datetime(2026, 11, 24, 10, tzinfo=CHINA))]


@pytest.mark.parametrize("moves", [[a("refuses")], [a("no_time"), a("refuses")]])
def test_a_refusal_says_goodbye_once_and_schedules_nothing(flows: dict[str, Flow],
                                                           moves: Moves) -> None:
    call = walk(flows["second_visit"], [a("no_time"), *moves])
    assert said(call)[-1] == BUSY_GOODBYE
    assert sum(line.count("再见") for line in said(call)) == 1
    assert call.record().disposition.id == "refused" and call.record().follow_ups == []


# -- 11. one goodbye, last, on every path; the 普通话 note opens every flow --------------------

def test_every_path_of_every_flow_says_goodbye_once_and_last(flows: dict[str, Flow]) -> None:
    for flow in flows.values():
        cover = path_cover(flow, context_for(flow.id))
        for moves in cover.paths:
            path = replay_case(flow, cover.context, moves).record().path
            counts = [sum(line.count("再见") for line in e.lines) for e in path]
            assert sum(counts[:-1]) == 0, (flow.id, [e.step for e in path])
            assert counts[-1] <= 1, (flow.id, path[-1].step)


def test_every_flow_opens_with_the_mandarin_note(flows: dict[str, Flow]) -> None:
    for flow in flows.values():
        notes = [n.source for n in flow.steps[flow.start].notes]
        assert any(n.startswith("使用普通话，客户需要时可用地方话") and "严禁闲聊" in n
                   for n in notes), flow.id


# -- 8. invented lines ----------------------------------------------------------------------

def test_answer_later_promises_the_call_back_when_it_is_due(flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [*TO_LISTEN, "!answer_later",
                                       a("agrees", open_question="国际漫游怎么收费")])
    promise = said(call)[-3]
    assert "马上" not in promise and promise.count("清楚") == 1 and "3个工作日内" in promise
    assert said(call)[-2:] == ["打扰您了！", "再见"]
    (follow_up,) = call.record().follow_ups
    assert (follow_up.kind, follow_up.due) == ("answer_question", date(2026, 11, 26))


def test_a_hold_too_long_asks_no_number_of_an_outbound_customer(flows: dict[str, Flow]) -> None:
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=(c := clock()))
    for answer in ("answered", "confirmed"):
        call.answer(answer)
    call.hold()
    c.advance(timedelta(minutes=4))
    prompt = call.resume()
    assert prompt.step == "hold.call_back" and "号码" not in prompt.lines[0]
    assert [o.captures for o in prompt.answers] == [()]
    call.answer("agrees")
    assert call.record().disposition.id == "callback_scheduled"


def test_the_wrong_number_line_explains_patiently_and_names_no_customer(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered"), a("wrong_number")])
    explanation, goodbye = said(call)[-2:]
    assert "客户服务人员" in explanation and "号码有误" in explanation and goodbye == "再见"
    assert "王" not in explanation and "138" not in explanation


# -- 3. escalation: its own interruption, no price explanation first ---------------------------

def test_a_serious_complaint_is_escalated_at_once_and_the_call_goes_on(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [
        *TO_LISTEN, "!escalate", a("continue", escalation_text="营业员辱骂客户"),
        a("all_fine"), a("no_questions"), a("declines"), a("declines"), a("declines"),
        a("not_needed"), a("next")])
    path = steps(call)
    assert path[4:7] == ["escalate.report", "listen", "questions"]
    lines = said(call)
    assert lines[3] == "非常抱歉给您带来不便，您反映的问题我会马上向上级汇报，并尽快给您答复。"
    assert lines[4] == "我想了解一下最近您手机及网络使用情况，并请您多提宝贵意见"  # the re-ask
    assert not any("资费" in line for line in lines)  # no price pitch
    record = call.record()
    assert record.disposition.id == "escalated"
    assert [e.reason for e in record.escalations] == ["重大服务质量投诉或紧急情况"]
    assert [(c.kind, c.text, c.reply_due) for c in record.complaints] == [
        ("complaint", "营业员辱骂客户", date(2026, 11, 26))]


def test_dissatisfaction_escalates_before_the_price_explanation(flows: dict[str, Flow]) -> None:
    call = walk(flows["second_visit"], [
        "!dissatisfied", a("serious", objection_topic="服务", objection_text="营业员态度恶劣"),
        a("continue", escalation_text="营业员态度恶劣")])
    assert steps(call) == ["greet", "dissatisfied.calm", "escalate.report", "greet"]
    assert not any("资费" in line for line in said(call))
    assert call.record().escalations and call.prompt.step == "greet"


# -- 2. identity --------------------------------------------------------------------------

def test_the_phone_number_is_an_alternative_from_the_start(flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered_by_phone"), a("confirmed")])
    assert steps(call) == ["prepare", "identity.confirm_phone", "introduce"]
    assert said(call) == ["您是13812345678号客户吗？", INTRO]  # continued, not come back: said whole


def test_a_name_mismatch_with_the_number_confirmed_records_the_user(flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [
        a("answered"), a("name_mismatch"), a("confirmed"), a("agrees"),
        a("gives", user_name="王小明", relation_to_holder="儿子"),
        a("not_now", user_identity_note="使用人为户主的儿子王小明"),
        a("all_fine"), a("no_questions"), a("declines"), a("declines"), a("declines"),
        a("not_needed"), a("next")])
    assert steps(call)[:7] == ["prepare", "confirm_name", "identity.confirm_phone",
                               "introduce_user", "not_holder.ask_details",
                               "not_holder.suggest_transfer", "listen"]
    lines = said(call)
    # the agent says who is calling before asking for the user's data
    assert lines[:5] == ["您好，您是王先生吗？", "您是13812345678号客户吗？", INTRO,
                         "为了及时向您传达我公司近期优惠政策，请您说一下您的姓名、联电、住址，"
                         "我们会在较短的时间内通知到您；",
                         "为了方便您今后办理业务，建议您办理过户手续，好吗？"]
    record = call.record()
    assert record.disposition.id == "not_holder_recorded"
    assert record.captures["user_identity_note"] == "使用人为户主的儿子王小明"  # the remark
    assert "user_phone" not in record.captures  # each item is optional (尽量)


def test_the_user_may_give_nothing_and_still_be_offered_the_transfer(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered"), a("name_mismatch"), a("confirmed"),
                                       a("agrees"), a("declines"), a("agrees")])
    assert steps(call)[-1] == "listen"
    assert [(f.kind, f.due) for f in call.record().follow_ups] == [
        ("transfer_of_ownership", date(2026, 12, 8))]


def test_a_known_user_goes_to_the_not_holder_items(flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered"), a("confirmed_user"), a("agrees")],
                customer(is_holder=False))
    assert steps(call)[-2:] == ["introduce_user", "not_holder.ask_details"]
    offered = {o.id for o in Call.start(flows["first_visit"], customer(is_holder=False)).answer(
        "answered").answers}
    assert "confirmed" not in offered and "answered_by_phone" not in offered


def test_the_right_number_without_the_customer_agrees_a_time_and_collects_nothing(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered"), a("not_available"),
                                       a("gives_time", callback_time="2026-11-23T19:00:00+08:00")])
    assert said(call) == ["您好，您是王先生吗？", "请问王先生什么时间有空，我们再与他联系？",
                          "打扰您了！", "再见"]
    record = call.record()
    assert record.disposition.id == "customer_unavailable" and record.disposition.code == "UA"
    assert list(record.captures) == ["callback_time"]
    assert [f.kind for f in record.follow_ups] == ["callback"]


@pytest.mark.parametrize("flow_id", ["second_visit", "spending_drop"])
def test_name_greeting_flows_have_an_identity_exit(flows: dict[str, Flow], flow_id: str) -> None:
    call = walk(flows[flow_id], [a("wrong_number")])
    assert call.record().disposition.id == "wrong_number" and said(call)[-1] == "再见"
    call = walk(flows[flow_id], [a("not_available"), a("no_time")])
    assert call.record().disposition.id == "customer_unavailable"


def test_zero_usage_names_no_arrears_before_the_person_is_confirmed(flows: dict[str, Flow]) -> None:
    context = context_for("zero_usage", idle_since_month=None, suspended_since_month=9)
    call = walk(flows["zero_usage"], [a("answered"), a("wrong_number")], context)
    assert not any("欠费" in line or "停机" in line for line in said(call))
    assert call.record().disposition.id == "wrong_number"
    call = walk(flows["zero_usage"], [a("answered"), a("confirmed"), a("agrees")], context)
    assert steps(call) == ["prepare", "confirm_name", "greet", "ask_reason"]
    assert "欠费停机" in said(call)[-1]


# -- 4. follow-ups and replies --------------------------------------------------------------

FIRST_TO_FREQUENCY: Moves = [*TO_LISTEN, a("all_fine"), a("no_questions"), a("declines"),
                             a("declines"), a("declines")]


@pytest.mark.parametrize(("opened_on", "due"), [
    ("2026-11-20", date(2026, 12, 5)),   # 15 days from the account opening
    ("2026-10-01", date(2026, 11, 23)),  # already past: due today, never before
    (None, date(2026, 12, 8)),           # not given: 15 days from the call
])
def test_the_new_customer_follow_up_counts_from_the_account_opening(
        flows: dict[str, Flow], opened_on: str | None, due: date) -> None:
    call = walk(flows["first_visit"], [
        *FIRST_TO_FREQUENCY, a("wants", callback_frequency="每月", next_callback="2026-12-23")],
        customer(opened_on=opened_on))
    assert [(f.kind, f.due) for f in call.record().follow_ups] == [
        ("second_visit", date(2026, 12, 23)), ("new_customer", due)]


def test_no_follow_up_when_the_customer_declines_further_callbacks(flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [*FIRST_TO_FREQUENCY, a("not_needed"), a("next")],
                customer(opened_on="2026-11-20"))
    assert call.record().follow_ups == [] and said(call)[-3:] == CLOSING


@pytest.mark.parametrize(("answer", "kinds"), [
    ("all_fine", []), ("feedback", []),
    ("suggestion", [("suggestion", "reply_suggestion")]),
    ("complaint", [("complaint", "reply_complaint")]),
])
def test_feedback_is_recorded_with_its_kind_and_replied_to_in_three_working_days(
        flows: dict[str, Flow], answer: str, kinds: list[tuple[str, str]]) -> None:
    call = walk(flows["first_visit"], [*TO_LISTEN, a(answer, feedback="营业厅周末人太多")])
    record = call.record()
    assert record.path[-2].answer == answer  # 无 / 建议 / 投诉, as the agent chose
    assert [(c.kind, f.kind) for c, f in zip(record.complaints, record.follow_ups, strict=True)] \
        == kinds
    assert all(f.due == date(2026, 11, 26) for f in record.follow_ups)
    assert all(c.text == "营业厅周末人太多" for c in record.complaints)


# -- 9. coming back from an interruption ----------------------------------------------------

def test_coming_back_re_asks_briefly_and_a_continuation_is_said_whole(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["first_visit"], [a("answered"), a("confirmed"), "!wary", a("has_card")])
    assert said(call)[-1] == "请问能占用您几分钟时间吗？"
    call = walk(flows["spending_drop"], [
        a("dissatisfied"), a("explain", objection_topic="话费", objection_text="太贵"),
        a("accepts"), a("continue")], context_for("spending_drop", last_month="128.50",
                                                  this_month="36"))
    assert steps(call)[-1] == "retain"  # the continuation of the dissatisfied branch


# -- 6. spending drop: retention, and a deployment's minimum drop ----------------------------

def test_spending_drop_retains_after_the_reason(flows: dict[str, Flow]) -> None:
    call = walk(flows["spending_drop"], [
        a("reason", drop_reason="单位配了新手机"), a("not_retained", retention_offer="保号套餐")],
        context_for("spending_drop", last_month="128.50", this_month="36"))
    assert steps(call) == ["greet", "retain", "closing.thanks"]
    assert call.record().captures["retention_offer"] == "保号套餐"
    notes = call.flow.steps["retain"].notes[0].source
    assert "挽留客户" in notes and "流失" in notes


@pytest.mark.parametrize(("minimum", "applies"), [
    ({"min_drop_amount": "100"}, False), ({"min_drop_amount": "90"}, True),
    ({"min_drop_percent": 80}, False), ({"min_drop_percent": 70}, True), ({}, True),
])
def test_a_deployment_may_ask_for_a_minimum_drop(flows: dict[str, Flow], minimum: dict[str, Any],
                                                 applies: bool) -> None:
    context = context_for("spending_drop", last_month="128.50", this_month="36")  # -92.50, 72%
    context["deployment"] = context["deployment"] | minimum
    if applies:
        assert Call.start(flows["spending_drop"], context).prompt.step == "greet"
    else:
        with pytest.raises(NotApplicableError):
            Call.start(flows["spending_drop"], context)


# -- 5. network problems: the test after the call, its result in a callback of its own -------

def test_network_complaint_records_the_place_and_schedules_the_test(flows: dict[str, Flow]) -> None:
    call = walk(flows["network_complaint"], [*TO_LISTEN, a("gives_place", no_signal_place="地下室"),
                                             a("accepts")])
    assert not any(line.startswith("请您谅解") for line in said(call))  # not before the test
    assert [(f.kind, f.due) for f in call.record().follow_ups] == [
        ("network_test", date(2026, 11, 26))]


def test_network_complaint_does_not_ask_for_a_place_it_has(flows: dict[str, Flow]) -> None:
    context = context_for("network_complaint", network={"reported_place": "滨江区江南大道12层"})
    call = walk(flows["network_complaint"], [a("answered"), a("confirmed")], context)
    assert [o.id for o in call.prompt.answers] == ["agrees_place_known", "no_time"]
    prompt = call.answer("agrees_place_known")
    assert prompt.notes[0].startswith("客户反映的地点：滨江区江南大道12层；")  # for the agent
    call.answer("accepts")
    assert "ask_place" not in steps(call) and steps(call)[-2:] == ["forward", "closing.thanks"]
    assert call.record().follow_ups[0].kind == "network_test"


def test_network_test_result_not_fixable_apologises_with_the_seed_line(
        flows: dict[str, Flow]) -> None:
    call = walk(flows["network_test_result"], [a("answered"), a("confirmed"),
                                               a("agrees_not_fixable"), a("accepts")])
    lines = said(call)
    assert "关于您反映的滨江区江南大道12层无网络的问题" in lines[1]
    assert lines[2].startswith("请您谅解，由于网络原因影响您正常工作与生活")
    assert lines[3:] == CLOSING
    record = call.record()
    assert record.disposition.id == "completed"
    assert [(f.kind, f.due) for f in record.follow_ups] == [("network_fix", date(2026, 11, 26))]


def test_network_test_result_fixed_reports_the_fix(flows: dict[str, Flow]) -> None:
    context = context_for("network_test_result", network={
        "reported_place": "地下车库", "reported_on": "2026-11-18", "test_result": "已解决"})
    call = walk(flows["network_test_result"], [a("answered"), a("confirmed"), a("agrees"),
                                               a("confirmed_ok")], context)
    assert steps(call) == ["prepare", "confirm_name", "introduce", "fixed", "closing.thanks"]
    assert not any("请您谅解" in line for line in said(call))
    assert call.record().follow_ups == []
    notes = Call.start(flows["network_test_result"], context).answer("answered").notes
    assert notes == ("也可核实客户手机号码（您是***********号客户吗？）",)


def test_the_prompt_marks_a_return_from_an_interruption_only() -> None:
    flow = builtin_flows()["first_visit"]
    call = Call.start(flow, context_for("first_visit"))
    call.answer("answered")
    call.answer("confirmed")
    assert not call.prompt.returned
    call.interrupt("wary")
    assert not call.prompt.returned  # a new step of the sub-dialogue
    call.answer(call.prompt.answers[0].id)
    while not call.prompt.returned and call.return_stack:
        call.answer(call.prompt.answers[0].id)
    assert call.prompt.returned and call.prompt.step == "introduce"
    call.answer("agrees")
    assert not call.prompt.returned  # on to the next step
