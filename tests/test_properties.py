"""Properties over random complete calls of every built-in flow."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from callscript import AnswerRejected, Call, CallRecord, Flow, SteppingClock, builtin_flows
from callscript.rules.calendar import CHINA
from callscript.testing import Move, random_walk, replay

from .conftest import context_for

FLOWS = builtin_flows()  # module level: hypothesis would print a fixture's whole repr
FLOW_IDS = sorted(FLOWS)
seeds = st.integers(min_value=0, max_value=2**32)


def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA), timedelta(seconds=10))


def walk(flow: Flow, seed: int) -> tuple[Call, list[Move]]:
    return random_walk(flow, context_for(flow.id), random.Random(seed), clock=clock())


@given(flow_id=st.sampled_from(FLOW_IDS), seed=seeds, data=st.data())
def test_snapshot_and_restore_at_any_step_continue_identically(
        flow_id: str, seed: int, data: st.DataObject) -> None:
    flow = FLOWS[flow_id]
    whole, moves = walk(flow, seed)
    cut = data.draw(st.integers(min_value=0, max_value=len(moves)), label="cut")
    same_time = clock()
    first = replay(flow, context_for(flow_id), moves[:cut], clock=same_time)
    saved = json.loads(json.dumps(first.snapshot()))  # through JSON, as a host stores it
    restored = Call.restore(flow, saved, context_for(flow_id), clock=same_time)
    for move in moves[cut:]:
        if move.kind == "interrupt":
            restored.interrupt(move.id)
        else:
            restored.answer(move.id, move.captures)
    assert restored.record().model_dump(exclude={"call_id"}) == whole.record().model_dump(
        exclude={"call_id"})


@given(flow_id=st.sampled_from(FLOW_IDS), seed=seeds, data=st.data())
def test_a_rejected_answer_changes_nothing(flow_id: str, seed: int,
                                           data: st.DataObject) -> None:
    flow = FLOWS[flow_id]
    _whole, moves = walk(flow, seed)
    cut = data.draw(st.integers(min_value=0, max_value=len(moves) - 1), label="cut")
    call = replay(flow, context_for(flow_id), moves[:cut])
    before = call.snapshot()
    prompt = call.prompt
    allowed = {a.id for a in prompt.answers}
    bad = data.draw(st.one_of(
        st.text(min_size=1, max_size=12).filter(lambda s: s not in allowed).map(
            lambda s: ("answer", s, {})),
        st.sampled_from([a.id for a in prompt.answers]).map(
            lambda s: ("answer", s, {"no_such_field": "x"})),
        st.sampled_from(["not_an_interruption", "busy"]).map(lambda s: ("interrupt", s, {})),
    ), label="bad move")
    kind, ident, captures = bad
    if kind == "interrupt" and ident in {i.id for i in prompt.interruptions}:
        return  # a valid interruption, not a rejected one
    try:
        if kind == "interrupt":
            call.interrupt(ident)
        else:
            call.answer(ident, captures)
        raise AssertionError("the bad move was accepted")
    except AnswerRejected:
        pass
    assert call.snapshot() == before
    assert call.prompt == prompt


@given(flow_id=st.sampled_from(FLOW_IDS), seed=seeds)
def test_every_walk_ends_with_an_outcome_and_a_valid_record(flow_id: str,
                                                             seed: int) -> None:
    call, _moves = walk(FLOWS[flow_id], seed)
    record = call.record()
    # the walk stops only when the call has ended: check what an end is, not that it stopped
    last = FLOWS[flow_id].steps[record.path[-1].step]
    assert last.terminal and call.state == last.id and call.prompt.answers == ()
    assert record.disposition is not None and record.disposition.id == call.disposition
    assert record.disposition.id == last.disposition or FLOWS[flow_id].dispositions[
        last.disposition or ""].refinable
    assert CallRecord.model_validate_json(record.model_dump_json()) == record


@given(name=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s))
def test_any_customer_name_renders_literally(name: str) -> None:
    context = context_for("second_visit")
    context["customer"] = context["customer"] | {"name": name}
    call = Call.start(FLOWS["second_visit"], context)
    assert call.prompt.lines[0] == (
        f"{name}先生您好，我是联通公司客户服务人员，前一段时间和您通过电话，请问您最近使用情况怎么样？")
