"""Walks through each built-in flow's main path and each shared sub-dialogue."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from callscript import Call, Flow, SteppingClock
from callscript.library import builtin_library
from callscript.rules.calendar import CHINA

from .conftest import context_for

Moves = list[tuple[str, dict[str, Any]]]


def run(flow: Flow, moves: Moves, clock: SteppingClock | None = None, **billing: Any) -> Call:
    # a fixed clock: appointments in the moves (2026-11-24 …) must lie ahead of the call
    clock = clock or SteppingClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA), timedelta(seconds=10))
    call = Call.start(flow, context_for(flow.id, **billing), clock=clock)
    for answer, captures in moves:
        call.answer(answer, captures)
    return call


def said(call: Call) -> list[str]:
    return [line for entry in call.record().path for line in entry.lines]


CLOSING = ["非常感谢您对我工作的支持，如果您有联通业务方面的问题，可随时拨打客户经理服务热线，"
           "电话是10010，我将会为您提供竭诚的服务。", "打扰您了！", "再见"]


def test_first_visit_main_path(flows: dict[str, Flow], clock: SteppingClock) -> None:
    call = run(flows["first_visit"], [
        ("answered", {}), ("confirmed", {}), ("agrees", {}),
        ("feedback", {"feedback": "网速慢"}), ("answered", {"questions_asked": "套餐"}),
        ("declines", {}), ("declines", {}), ("declines", {}), ("not_needed", {}), ("next", {}),
    ], clock)
    lines = said(call)
    assert lines[0] == "您好，您是王先生吗？"
    assert lines[1].startswith("我是联通公司客户服务人员，欢迎您使用联通133（130）手机业务")
    assert lines[2].startswith("请您放心，此次（我们之间的）通话是免费的")
    assert "今后在业务方面有什么需求请随时与我联系，联系电话是0571-86001234，我叫李娜" in lines
    assert lines[-3:] == CLOSING
    record = call.record()
    assert record.disposition.id == "completed" and record.waited_for_customer_hangup
    assert record.follow_ups == []  # the customer needs no further callbacks: no 15-day follow-up


def test_first_visit_identity_by_phone_then_wrong_number(flows: dict[str, Flow]) -> None:
    call = run(flows["first_visit"], [("answered", {}), ("name_mismatch", {}), ("wrong_number", {})])
    lines = said(call)
    assert lines[:2] == ["您好，您是王先生吗？", "您是13812345678号客户吗？"]
    assert lines[-1] == "再见" and "可能是我们记录的号码有误" in lines[-2]
    assert call.record().disposition.id == "wrong_number"


def test_first_visit_unanswered_says_nothing(flows: dict[str, Flow]) -> None:
    call = run(flows["first_visit"], [("no_answer", {})])
    assert said(call) == [] and call.record().disposition.id == "no_answer"


def test_second_visit_main_path(flows: dict[str, Flow]) -> None:
    call = run(flows["second_visit"], [
        ("fine", {}), ("wants", {"callback_frequency": "每月", "next_callback": "2026-12-23"})])
    assert said(call) == [
        "王先生您好，我是联通公司客户服务人员，前一段时间和您通过电话，请问您最近使用情况怎么样？",
        "您希望我们多长时间回访您一次比较合适",
        "如您需要二次回访，我们会定期为您提供服务。", "谢谢您对我工作上的支持，再见。"]
    record = call.record()
    assert record.disposition.id == "completed"
    assert [(f.kind, f.due) for f in record.follow_ups] == [("second_visit", date(2026, 12, 23))]


def test_spending_drop_quotes_both_bills(flows: dict[str, Flow], clock: SteppingClock) -> None:
    objection = {"objection_topic": "服务", "objection_text": "营业厅排队太久"}
    call = run(flows["spending_drop"], [("dissatisfied", {}), ("explain", objection),
                                        ("accepts", {}), ("continue", {}),
                                        ("retained", {"retention_offer": "赠送流量包"}),
                                        ("not_needed", {}), ("next", {})],
               clock, last_month="128.50", this_month="36")
    lines = said(call)
    # money is said in yuan and fen: 36 from the billing export as 36.00
    assert "看到您上月话费是128.50元，本月话费是36.00元，我们很想了解一下您话费下降的原因。" in lines[0]
    assert lines[1] == "是由于我们的服务有您不满意的地方吗？我们十分希望您能向我们提出宝贵意见。"
    assert "感谢您对我们提出的批评与建议，我们会在较短的时间内进行改善，请您随时监督" in lines
    assert call.prompt.step == "closing.thanks"  # the dissatisfied branch returned to retention
    (complaint,) = call.record().complaints
    assert complaint.text == "营业厅排队太久" and complaint.reply_due == date(2026, 11, 26)


@pytest.mark.parametrize(("billing", "variant"), [
    ({"idle_since_month": 7, "suspended_since_month": None}, "您的手机从7月没有使用，"),
    ({"idle_since_month": None, "suspended_since_month": 9}, "您的手机从9月欠费停机了，"),
])
def test_zero_usage_chooses_the_variant_by_context(flows: dict[str, Flow], billing: dict[str, Any],
                                                   variant: str) -> None:
    call = run(flows["zero_usage"], [
        ("answered", {}), ("confirmed", {}), ("agrees", {}),
        ("reason", {"zero_usage_reason": "资费太贵"}),
        ("retained", {"retention_offer": "换成每月19元的套餐"}), ("not_needed", {}), ("next", {})],
        **billing)
    lines = said(call)
    assert lines[0] == "您好，您是王先生吗？"
    assert lines[1].startswith("您好，我是联通公司客户服务人员，请您放心，我们之间的通话是免费的")
    assert f"我想了解一下，{variant}您能否告诉我其中的原因呢？或许我会为您解决一些问题。" == lines[2]
    captures = call.record().captures
    assert captures["zero_usage_reason"] == "资费太贵" and captures["retention_offer"] == "换成每月19元的套餐"


def test_network_complaint_main_path(flows: dict[str, Flow], clock: SteppingClock) -> None:
    call = run(flows["network_complaint"], [
        ("answered", {}), ("confirmed", {}), ("agrees", {}),
        ("gives_place", {"no_signal_place": "滨江区江南大道12层"}), ("accepts", {}),
    ], clock)
    lines = said(call)
    assert lines[2] == "您能将出现无网络的具体的地点或范围说一下好吗？"
    assert lines[3] == "我将把您所说的这些情况向我公司运维部的人员反映，对网络进行测试"
    assert lines[4:] == CLOSING
    record = call.record()
    assert record.disposition.id == "completed"
    assert [(f.kind, f.due) for f in record.follow_ups] == [("network_test", date(2026, 11, 26))]
    assert record.captures["no_signal_place"] == "滨江区江南大道12层"


# Each shared sub-dialogue, raised from two different steps, returns to the step it left
# (or ends the call as the seed says).
SUBDIALOGUES: list[tuple[str, Moves, str | None]] = [
    ("not_holder", [("gives", {"user_name": "王小明", "relation_to_holder": "儿子"}),
                    ("not_now", {"user_identity_note": "实际使用人为户主儿子"})], None),
    ("wary", [("wants_delivery", {"delivery_address": "文三路100号"})], None),
    ("handset", [("repeated_repairs", {"handset_problem": "修了三次还是死机"}), ("accepts", {})], None),
    ("dissatisfied", [("explain", {"objection_topic": "话费", "objection_text": "多扣了钱"}),
                      ("doubts_bill", {}), ("agrees", {}), ("continue", {})], None),
    ("escalate", [("continue", {"escalation_text": "营业员辱骂客户"})], None),
    ("network", [("gives_place", {"no_signal_place": "地下室"}), ("accepts", {})], None),
    ("busy", [("no_time", {}), ("agrees", {"callback_time": "2026-11-24T10:00:00+08:00"})],
     "rescheduled"),
    ("answer_later", [("agrees", {"open_question": "国际漫游资费"})], "callback_scheduled"),
    ("hung_up", [], "hung_up"),
]
FROM_STEPS = {  # moves from the start of first_visit to a step
    "introduce": [("answered", {}), ("confirmed", {})],
    "in_call.birthday": [("answered", {}), ("confirmed", {}), ("agrees", {}), ("all_fine", {}),
                         ("no_questions", {}), ("declines", {}), ("declines", {})],
}


@pytest.mark.parametrize("from_step", sorted(FROM_STEPS))
@pytest.mark.parametrize(("sub", "moves", "ends"), SUBDIALOGUES, ids=[s[0] for s in SUBDIALOGUES])
def test_subdialogue_from_several_steps(flows: dict[str, Flow], from_step: str, sub: str,
                                        moves: Moves, ends: str | None) -> None:
    call = run(flows["first_visit"], FROM_STEPS[from_step])
    assert call.prompt.step == from_step
    call.interrupt(sub)
    assert call.prompt.step.startswith(f"{sub}.")
    for answer, captures in moves:
        call.answer(answer, captures)
    if ends is None:
        assert call.prompt.step == from_step
        assert not call.ended
    else:
        assert call.ended and call.record().disposition.id == ends


def test_not_holder_sets_the_outcome_of_the_whole_call(flows: dict[str, Flow]) -> None:
    call = run(flows["second_visit"], [])
    call.interrupt("not_holder")
    for answer, captures in [("gives", {"user_name": "王小明", "relation_to_holder": "儿子"}),
                             ("agrees", {}), ("fine", {}), ("not_needed", {}), ("next", {})]:
        call.answer(answer, captures)
    record = call.record()
    assert record.disposition.id == "not_holder_recorded"
    assert [f.kind for f in record.follow_ups] == ["transfer_of_ownership"]


def test_escalation_is_recorded_and_explained(flows: dict[str, Flow]) -> None:
    call = run(flows["second_visit"], [])
    call.interrupt("escalate")
    assert "向上级汇报" in call.prompt.lines[0]
    call.answer("continue", {"escalation_text": "营业员辱骂客户"})
    for answer in ("fine", "not_needed", "next"):
        call.answer(answer)
    record = call.record()
    assert record.disposition.id == "escalated"
    assert record.escalations[0].reason == "重大服务质量投诉或紧急情况"
    assert isinstance(record.escalations[0].at, datetime)


def test_busy_with_a_time_records_the_callback(flows: dict[str, Flow]) -> None:
    call = run(flows["second_visit"], [("no_time", {}),
                                        ("gives_time", {"callback_time": "2026-11-25T19:30:00+08:00"})])
    record = call.record()
    assert record.disposition.id == "rescheduled"
    assert record.follow_ups[0].kind == "callback"
    assert record.follow_ups[0].due == datetime.fromisoformat("2026-11-25T19:30:00+08:00")
    assert said(call)[-1] == "我们的服务一定会给您带来很多方便，打扰您了，再见"


def test_every_built_in_step_has_a_chinese_title(flows: dict[str, Flow]) -> None:
    # every step of every file (flows and sub-dialogues), as written
    specs = builtin_library().specs
    assert {"first_visit", "identity", "busy", "closing"} <= set(specs)
    for file_id, loaded in specs.items():
        for step_id, step in loaded.spec.steps.items():
            assert step.title, f"{file_id}.{step_id} has no title"
            assert not step.title.isascii(), f"{file_id}.{step_id}: title {step.title!r}"
            assert re.search(r"[\u4e00-\u9fff]", step.title), f"{file_id}.{step_id}"
    # and every view reads the title, never the id
    for flow in flows.values():
        for step in flow.steps.values():
            assert step.title != step.id.rsplit(".", 1)[-1], f"{flow.id}: {step.id}"


@pytest.mark.parametrize(("given", "said_as"), [("36", "36.00"), (36, "36.00"), (60.0, "60.00"),
                                                ("36.5", "36.50"), (Decimal("0"), "0.00")])
def test_money_is_said_with_two_decimals_from_any_source(
        flows: dict[str, Flow], clock: SteppingClock, given: object, said_as: str) -> None:
    # a CSV gives "36", a Parquet export 60.0: the agent says both the same way
    call = run(flows["spending_drop"], [], clock, last_month="128.50", this_month=given)
    assert f"本月话费是{said_as}元" in said(call)[0]


def test_money_with_more_than_two_decimals_is_refused_not_rounded(flows: dict[str, Flow]) -> None:
    from callscript.errors import ContextError

    with pytest.raises(ContextError) as refused:
        run(flows["spending_drop"], [], last_month="128.505", this_month="36")
    assert "128.505" not in str(refused.value)
