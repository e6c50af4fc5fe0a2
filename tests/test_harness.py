"""The integrator's harness: only the public API, JSON at every step, bad input everywhere.

No divergence from an uninterrupted twin, no exception that is not a callscript
error, no changed state after a refusal, no personal data in logs, errors,
reprs, events or redacted records.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest

import callscript
from callscript.rules.calendar import CHINA
from callscript.testing import random_walk

from .conftest import context_for

PERSONAL = ("13812345678", "文三路100号", "87650000")  # the customer's phone, an address, a phone
FLOW_IDS = ["first_visit", "second_visit", "spending_drop", "zero_usage", "network_complaint"]
BAD_VALUES: list[Any] = [0, 13812345678, "13812345678", "文三路100号", True, 1.5, None, [],
                         {"a": 1}, "\ud800", "x" * 600, date(2030, 1, 1), b"\x00", object()]


def clock() -> callscript.SteppingClock:
    return callscript.SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA), timedelta(seconds=10))


def bad_turns(call: callscript.Call, rng: random.Random) -> list[Any]:
    prompt = call.prompt
    turns: list[Any] = [
        lambda c: c.answer("13812345678"), lambda c: c.answer("文三路100号", {"a": 1}),
        lambda c: c.interrupt("13812345678"), lambda c: c.answer(13812345678),
        lambda c: c.answer(prompt.answers[0].id, "文三路100号"),
        lambda c: c.answer(prompt.answers[0].id, {13812345678: "x"}),
        lambda c: c.answer(prompt.answers[0].id, revision=c.revision - 1),
        lambda c: c.answer(prompt.answers[0].id, revision="13812345678"),
        lambda c: c.answer(prompt.answers[0].id, turn_id=13812345678),
        lambda c: c.resume({"x": "13812345678"}),
    ]
    for option in prompt.answers:
        for spec in option.captures:
            value = rng.choice(BAD_VALUES)
            turns.append(lambda c, o=option.id, n=spec.name, v=value: c.answer(o, {n: v}))
    return turns


@pytest.mark.parametrize("seed", range(10))
def test_public_api_harness(seed: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    flows = callscript.builtin_flows()
    rng = random.Random(seed)
    flow_id = FLOW_IDS[seed % len(FLOW_IDS)]
    flow, context = flows[flow_id], context_for(flow_id)
    twin, moves = random_walk(flow, context, random.Random(seed), clock=clock())
    events: list[callscript.CallEvent] = []
    shared = clock()
    call = callscript.Call.start(flow, context, clock=shared)
    for n, move in enumerate(moves):
        before = call.snapshot_json()
        # refused turns may read a clock (a callback time is checked against now): their own
        call = callscript.Call.restore(flow, before, context, clock=clock(),
                                       listeners=[events.append])
        for turn in bad_turns(call, rng):
            try:
                turn(call)
            except callscript.CallscriptError as err:
                assert not any(p in str(err) for p in PERSONAL), str(err)
                assert not isinstance(err, callscript.ListenerError)
            else:
                if call.snapshot_json() != before:  # a valid move by chance: take it back
                    call = callscript.Call.restore(flow, before, context, clock=clock())
                    continue
            assert call.snapshot_json() == before
        call = callscript.Call.restore(flow, before, context, clock=shared,
                                       listeners=[events.append])
        if move.kind == "answer":
            call.answer(move.id, move.captures, revision=call.revision, turn_id=f"t{n}")
            call.answer(move.id, move.captures, revision=call.revision - 1, turn_id=f"t{n}")
        else:
            call.interrupt(move.id, revision=call.revision, turn_id=f"t{n}")
    assert call.record().model_dump(exclude={"call_id"}) == twin.record().model_dump(
        exclude={"call_id"})
    shown = " ".join([*(repr(e) for e in events), repr(call), repr(call.prompt),
                      repr(call.record()), call.record().redacted().model_dump_json(),
                      *(r.getMessage() for r in caplog.records)])
    assert not any(p in shown for p in PERSONAL)
