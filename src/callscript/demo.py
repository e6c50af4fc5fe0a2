"""Scripted sample calls through each built-in flow, printed as a dialogue and a record.

The samples are data of their libraries (a telecom customer, a securities prospect):
each carries its whole context, so running one names no field of any trade.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from callscript.clocks import SteppingClock, sequential_ids
from callscript.compile import Flow
from callscript.library import builtin_library
from callscript.privacy import mask
from callscript.rules.calendar import CHINA
from callscript.runtime import Call, Prompt

AGENT = {"id": "A0107", "name": "李娜", "phone": "0571-86001234"}
DEPLOYMENT = {"carrier": "联通", "hotline": "10010", "service_centre": "西湖区"}


@dataclass(frozen=True)
class Turn:
    """One move of a scripted call: an answer, an interruption, or a hold of some seconds."""

    kind: str  # "answer" | "interrupt" | "hold"
    id: str = ""
    captures: dict[str, Any] = field(default_factory=dict)
    seconds: int = 0


def answer(answer_id: str, **captures: Any) -> Turn:
    return Turn("answer", answer_id, captures)


def interrupt(interruption_id: str) -> Turn:
    return Turn("interrupt", interruption_id)


def hold(seconds: int) -> Turn:
    return Turn("hold", seconds=seconds)


@dataclass(frozen=True)
class Sample:
    flow: str
    context: dict[str, Any]
    turns: Sequence[Turn]
    library: str = "telecom"


def _telecom(customer: dict[str, Any], billing: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"customer": customer, "billing": billing or {}, "agent": AGENT,
            "deployment": DEPLOYMENT}


SECURITIES = {  # docs/examples/securities-deployment.yaml
    "firm": {"name": "招商证券", "hotline": "95565"},
    "agent": {"id": "S0207", "name": "周敏", "phone": "0755-83081234"},
    "product": {"name": "银证通", "description": "——银证通，用银行账户直接买卖股票，资金安全，操作方便"},
    "prospect": {"name": "王", "title": "先生", "phone": "13812345678", "reference": "P-2001",
                 "source": "银行网点客户咨询留存", "previous_contacts": 0},
}

SAMPLES: tuple[Sample, ...] = (
    Sample("first_visit",
           _telecom({"name": "王", "title": "先生", "phone": "13812345678", "reference": "C-1001"}), [
               answer("answered"), answer("confirmed"), answer("agrees"),
               answer("feedback", feedback="地下车库信号不好,其他都挺好"),
               interrupt("network"), answer("gives_place", no_signal_place="小区地下车库"),
               answer("pending"),
               hold(40), answer("answered", questions_asked="询问了流量套餐的价格"),
               answer("gives", address="杭州市西湖区文三路100号", home_phone="0571-87650000"),
               answer("declines"), answer("gives", birthday="1985-06-01"), answer("next"),
               answer("wants", callback_frequency="每季度一次", next_callback="2027-02-20"),
           ]),
    Sample("second_visit", _telecom({"name": "陈", "title": "女士", "reference": "C-1002"}), [
        answer("problems", feedback="上个月的话费比平时多"),
        interrupt("dissatisfied"),
        answer("doubts_bill", objection_topic="话费", objection_text="上月话费多了20元"),
        answer("agrees"), answer("continue"),
        answer("answered"), answer("not_needed"), answer("next"),
    ]),
    Sample("spending_drop", _telecom({"name": "赵", "title": "先生", "reference": "C-1003"},
                                     {"last_month": "128.50", "this_month": "36.00"}), [
               answer("reason", drop_reason="单位配了新手机,这个号用得少了"),
               answer("wants", callback_frequency="半年一次", next_callback="2027-05-23"),
           ]),
    Sample("zero_usage", _telecom({"reference": "C-1004"}, {"suspended_since_month": 9}), [
        answer("agrees"),
        answer("reason", zero_usage_reason="出国工作半年,忘了交费"),
        answer("retained", retention_offer="办理停机保号,回国后恢复使用"),
        interrupt("busy"), answer("gives_time", callback_time="2026-11-25T19:00:00+08:00"),
    ]),
    Sample("network_complaint",
           _telecom({"name": "孙", "title": "女士", "phone": "13900001111", "reference": "C-1005"}), [
               answer("answered"), answer("confirmed"), answer("agrees"),
               answer("gives_place", no_signal_place="滨江区江南大道办公楼12层"),
               answer("cannot_fix_now"), answer("accepts"),
           ]),
    Sample("marketing", SECURITIES, [
        answer("answered"), answer("listens"), answer("tells", business_needs="想用手机炒股"),
        answer("heard", region="南山区", account_status="未开户", traded_stocks=False),
        answer("heard", needs_met=False, yinzheng_opinion="担心资金安全"),
        answer("suggests", suggestion="希望周末也能咨询"), answer("novel"),
        interrupt("objection"), answer("heard", objection="资金放在证券公司不放心"),
        answer("next"), answer("answer_now"), answer("next"),
        answer("done", objection_resolved=True),
        answer("next"), answer("interested"), answer("tells", quantity="5万元"),
        answer("recorded", contact_phone="13812345678", greeting_channel="个人短消息"),
        answer("agreed", next_contact_at="2026-11-30T19:00:00+08:00"),
        answer("nothing_more"), answer("will_use"),
    ], library="securities"),
)


def _print_prompt(prompt: Prompt, out: TextIO) -> None:
    for note in prompt.notes:
        print(f"          ({note})", file=out)
    for line in prompt.lines:
        print(f"  客户经理: {line}", file=out)


def run_sample(sample: Sample, flow: Flow, out: TextIO) -> Call:
    clock = SteppingClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA), timedelta(seconds=20))
    call = Call.start(flow, sample.context, clock=clock, ids=sequential_ids(sample.flow))
    labels = {a.id: a.label for a in call.prompt.answers}
    _print_prompt(call.prompt, out)
    for turn in sample.turns:
        labels = {a.id: a.label for a in call.prompt.answers}
        prompt: Prompt
        if turn.kind == "interrupt":
            label = next(i.label for i in call.prompt.interruptions if i.id == turn.id)
            print(f"  [{label}]", file=out)
            prompt = call.interrupt(turn.id)
        elif turn.kind == "hold":
            _print_prompt(call.hold(), out)
            clock.advance(timedelta(seconds=turn.seconds))
            print(f"  [等待 {turn.seconds} 秒]", file=out)
            prompt = call.resume()
        else:
            print(f"  客户:     {labels[turn.id]}", file=out)
            for name, value in turn.captures.items():
                spec = flow.captures[name]
                shown = mask(value) if spec.sensitive else value
                print(f"            [记录 {spec.label}: {shown}]", file=out)
            prompt = call.answer(turn.id, turn.captures)
        _print_prompt(prompt, out)
    return call


def run_demo(out: TextIO, as_json: bool = False,
             flows: Callable[[], dict[str, Flow]] | None = None) -> int:
    """``flows``: where the samples' flows come from (default: their built-in libraries)."""
    compiled = flows() if flows is not None else None
    records = []
    for sample in SAMPLES:
        flow = (compiled[sample.flow] if compiled is not None
                else builtin_library(sample.library).flow(sample.flow))
        if not as_json:
            print(f"=== {flow.title} ({flow.id}) " + "=" * 40, file=out)
        call = run_sample(sample, flow, io.StringIO() if as_json else out)
        record = call.record().redacted()
        records.append(record.model_dump(mode="json"))
        if not as_json:
            print("--- record (redacted) ---", file=out)
            print(record.model_dump_json(indent=2, exclude={"path"}), file=out)
            print(file=out)
    if as_json:
        print(json.dumps(records, ensure_ascii=False, indent=2), file=out)
    return 0
