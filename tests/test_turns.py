"""A turn is computed, committed whole, then announced; revisions and turn ids make it safe."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callscript import (
    AnswerRejected,
    Call,
    CallEvent,
    CallscriptError,
    Conflict,
    Flow,
    ListenerError,
    StaleRevision,
    SteppingClock,
    TurnIdReused,
    sequential_ids,
)
from callscript.rules.calendar import CHINA
from callscript.testing import Move, random_walk
from callscript.testing.walk import apply

from .conftest import context_for

FLOW_IDS = ["first_visit", "second_visit", "spending_drop", "zero_usage", "network_complaint"]


def fixed_clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA), timedelta(seconds=10))


def state_of(call: Call) -> dict[str, Any]:
    """The snapshot without the per-call random salt of the context fingerprint."""
    data = call.snapshot()
    del data["context"]
    return data


def to_introduce(flows: dict[str, Flow], **kwargs: Any) -> Call:
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=fixed_clock(),
                      **kwargs)
    call.answer("answered")
    call.answer("confirmed")
    return call


class Boom(Exception):
    pass


@given(flow_id=st.sampled_from(FLOW_IDS), seed=st.integers(0, 2**32 - 1),
       fail_at=st.integers(1, 60))
def test_a_raising_listener_never_half_applies_a_turn(flows: dict[str, Flow], flow_id: str,
                                                      seed: int, fail_at: int) -> None:
    """For any walk and a listener raising at any event: the call is exactly at its twin's
    state after the turn, and its snapshot restores and continues like the twin."""
    flow, context = flows[flow_id], context_for(flow_id)
    _walked, moves = random_walk(flow, context, random.Random(seed), clock=fixed_clock())
    seen = 0

    def listener(event: CallEvent) -> None:
        nonlocal seen
        seen += 1
        if seen == fail_at:
            raise Boom("a listener's own failure, holding 13812345678")

    twin = Call.start(flow, context, clock=fixed_clock(), ids=sequential_ids())
    try:
        call = Call.start(flow, context, clock=fixed_clock(), ids=sequential_ids(),
                          listeners=[listener])
    except ListenerError as err:
        assert isinstance(err.call, Call) and err.revision == 1
        call = err.call
    assert state_of(call) == state_of(twin)
    for move in moves:
        apply(twin, move)
        try:
            apply(call, move)
        except ListenerError as err:
            assert err.applied and err.revision == twin.revision
            assert err.prompt == twin.prompt
            assert "13812345678" not in str(err)
        assert state_of(call) == state_of(twin)
        again = Call.restore(flow, json.dumps(call.snapshot()), context, clock=fixed_clock())
        assert state_of(again) == state_of(call)
    assert call.ended and call.record().model_dump(exclude={"call_id"}) == twin.record().model_dump(
        exclude={"call_id"})


def test_listener_error_reports_every_failure_and_every_listener_hears_everything(
        flows: dict[str, Flow]) -> None:
    heard: list[str] = []

    def bad(event: CallEvent) -> None:
        raise ValueError("secret 13812345678")

    call = to_introduce(flows)
    call.subscribe(bad)
    call.subscribe(lambda e: heard.append(e.kind))
    with pytest.raises(ListenerError) as caught:
        call.interrupt("busy")
    assert call.prompt.step == "busy.ask_time" and call.revision == 4
    assert heard == ["step_entered"]
    assert len(caught.value.exceptions) == 1 and isinstance(caught.value.exceptions[0], ValueError)
    assert "revision 4" in str(caught.value) and "ValueError" in str(caught.value)
    assert "13812345678" not in str(caught.value)


def test_a_new_call_has_revision_1_and_every_turn_adds_one(flows: dict[str, Flow]) -> None:
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=fixed_clock())
    assert call.revision == 1 and call.prompt.revision == 1
    assert call.answer("answered").revision == 2
    call.interrupt("hold")
    assert call.revision == 3 and call.snapshot()["revision"] == 3
    assert call.resume().revision == 4


def test_a_stale_revision_changes_nothing(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    before = call.snapshot_json()
    for stale in (1, 2, 4, 99):
        with pytest.raises(StaleRevision) as caught:
            call.answer("agrees", revision=stale)
        assert isinstance(caught.value, Conflict) and isinstance(caught.value, CallscriptError)
        assert caught.value.revision == 3 and caught.value.expected == stale
        assert call.snapshot_json() == before
    with pytest.raises(StaleRevision):
        call.interrupt("busy", revision=2)
    with pytest.raises(StaleRevision):
        call.hold(revision=2)
    assert call.snapshot_json() == before
    assert call.answer("agrees", revision=3).revision == 4


def test_two_requests_from_one_snapshot_lose_no_update(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    saved, context = call.snapshot_json(), context_for("first_visit")
    first = Call.restore(flows["first_visit"], saved, context)
    second = Call.restore(flows["first_visit"], saved, context)
    first.answer("agrees", revision=3)
    second.answer("no_time", revision=3)  # both at revision 3: the host's store decides
    # the host stores the first (revision 3 -> 4); the second request, reloaded, is stale
    reloaded = Call.restore(flows["first_visit"], first.snapshot_json(), context)
    with pytest.raises(StaleRevision):
        reloaded.answer("no_time", revision=3)


def test_a_replayed_turn_id_returns_the_same_result_without_moving(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    prompt = call.answer("agrees", turn_id="t-1", revision=3)
    after = call.snapshot_json()
    again = call.answer("agrees", turn_id="t-1", revision=3)  # the retry names the old revision
    assert again == prompt and call.snapshot_json() == after
    restored = Call.restore(flows["first_visit"], after, context_for("first_visit"))
    assert restored.answer("agrees", turn_id="t-1") == prompt
    assert restored.snapshot_json() == after


def test_an_older_turn_id_returns_the_prompt_it_returned_then(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    first = call.answer("agrees", turn_id="a")
    call.answer("all_fine", turn_id="b")
    call.interrupt("wary", turn_id="c")
    after = call.snapshot_json()
    assert call.answer("agrees", turn_id="a") == first
    assert call.snapshot_json() == after


def test_a_turn_id_with_other_input_is_refused(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    call.answer("agrees", turn_id="t-1")
    after = call.snapshot_json()
    for other in (lambda: call.answer("no_time", turn_id="t-1"),
                  lambda: call.answer("agrees", {"x": 1}, turn_id="t-1"),
                  lambda: call.interrupt("agrees", turn_id="t-1")):
        with pytest.raises(TurnIdReused) as caught:
            other()
        assert isinstance(caught.value, Conflict) and caught.value.revision == 4
        assert call.snapshot_json() == after


def test_only_the_last_16_turn_ids_are_kept(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    for n in range(5):  # 4 turns each: 20 turns with ids
        call.interrupt("dissatisfied", turn_id=f"i{n}")
        call.answer("doubts_bill", {"objection_topic": "话费", "objection_text": "多扣了钱"},
                    turn_id=f"a{n}")
        call.answer("agrees", turn_id=f"b{n}")
        call.answer("continue", turn_id=f"c{n}")
    kept = [t["id"] for t in call.snapshot()["turns"]]
    assert len(kept) == 16 and kept[0] == "i1" and kept[-1] == "c4"
    after = call.snapshot_json()
    call.interrupt("dissatisfied", turn_id="i0")  # forgotten: a new turn
    assert call.snapshot_json() != after


def test_a_refused_turn_is_not_remembered(flows: dict[str, Flow]) -> None:
    call = to_introduce(flows)
    with pytest.raises(AnswerRejected):
        call.answer("maybe", turn_id="t-1")
    assert call.snapshot()["turns"] == []
    assert call.answer("agrees", turn_id="t-1").step == "listen"


def test_resume_reads_the_clock_once_and_time_up_never_moves_it(flows: dict[str, Flow]) -> None:
    clock = fixed_clock()
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=clock)
    call.answer("answered")
    call.answer("confirmed")
    call.hold()
    clock.advance(timedelta(seconds=170))  # the next reading is 10 s short of the limit
    before = clock.now
    for _ in range(5):
        assert call.time_up() is False
    assert clock.now == before
    # resume reads once: 170 s + one step of 10 s = 180 s is not past the limit
    assert call.resume().step == "introduce"
    assert clock.now == before + clock.step


def test_resume_after_the_limit_becomes_a_callback(flows: dict[str, Flow]) -> None:
    clock = fixed_clock()
    call = Call.start(flows["first_visit"], context_for("first_visit"), clock=clock)
    call.answer("answered")
    call.hold()
    clock.advance(timedelta(seconds=171))  # the reading the turn takes is 181 s after
    assert call.time_up()
    assert call.resume().step == "hold.ask_number"


def test_restoring_announces_nothing(flows: dict[str, Flow]) -> None:
    heard: list[CallEvent] = []
    call = to_introduce(flows)
    Call.restore(flows["first_visit"], call.snapshot(), context_for("first_visit"),
                 listeners=[heard.append])
    assert heard == []


def test_moves_are_replayable_through_the_public_api_only(flows: dict[str, Flow]) -> None:
    """A walk restored from JSON bytes at every step ends exactly as the uninterrupted one."""
    for seed in range(20):
        flow_id = FLOW_IDS[seed % len(FLOW_IDS)]
        flow, context = flows[flow_id], context_for(flow_id)
        whole, moves = random_walk(flow, context, random.Random(seed), clock=fixed_clock())
        clock = fixed_clock()
        call = Call.start(flow, context, clock=clock)
        for move in moves:
            call = Call.restore(flow, call.snapshot_json(), context, clock=clock)
            _apply_with_revision(call, move)
        assert call.record().model_dump(exclude={"call_id"}) == whole.record().model_dump(
            exclude={"call_id"})


def _apply_with_revision(call: Call, move: Move) -> None:
    if move.kind == "interrupt":
        call.interrupt(move.id, revision=call.revision)
    else:
        call.answer(move.id, move.captures, revision=call.revision)
