"""The properties every flow must have, checked over many seeded random calls.

``check_flow(flow)`` returns the violations found, each located at file:line:

- ends: every call reaches a terminal step with an outcome;
- record: the record survives a JSON round trip unchanged;
- snapshot: snapshot and restore at any step continue exactly as the call would have;
- milestones: every completed call passes the flow's milestones, in order;
- goodbye: every call that reached the customer ends with a goodbye (再见) said,
  and the agent waits for the customer to hang up;
- wording: no line said contains a forbidden phrase;
- coverage: every step, answer, interruption, outcome and {% if %} arm was reached.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from callscript.compile import Flow
from callscript.record import CallRecord
from callscript.rules.wording import DEFAULT_FORBIDDEN
from callscript.runtime import Call
from callscript.testing.coverage import Coverage
from callscript.testing.paths import case_clock, path_cover, replay_case
from callscript.testing.walk import Move, apply, random_walk, replay, sample_context

GOODBYE = "再见"


@dataclass(frozen=True)
class Violation:
    prop: str
    flow: str
    message: str
    file: str
    line: int | None
    moves: tuple[Move, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.flow}: {self.prop}: {self.message}"


class _Checker:
    def __init__(self, flow: Flow, forbidden: tuple[str, ...]) -> None:
        self.flow = flow
        self.forbidden = forbidden
        self.found: dict[tuple[str, str, int | None], Violation] = {}

    def fail(self, prop: str, step: str | None, message: str, moves: Iterable[Move] = ()) -> None:
        compiled = self.flow.steps.get(step or "")
        file = compiled.file if compiled else self.flow.files[0]
        line = compiled.line if compiled else None
        self.found.setdefault((prop, file, line),
                              Violation(prop, self.flow.id, message, file, line, tuple(moves)))

    def check_call(self, call: Call, moves: list[Move], rng: random.Random) -> None:
        record = call.record()
        last = record.path[-1].step
        if record.disposition is None:
            self.fail("ends", last, "the call ended without a disposition", moves)
        again = CallRecord.model_validate_json(record.model_dump_json())
        if again != record:
            self.fail("record", last, "the record changes in a JSON round trip", moves)
        said = [(e.step, line) for e in record.path for line in e.lines]
        for step, line in said:
            for phrase in self.forbidden:
                if phrase in line:
                    self.fail("wording", step, f"said the forbidden phrase {phrase!r}", moves)
        final = self.flow.steps[last]
        ended = self.flow.dispositions[final.disposition or ""]
        hung_up = not ended.goodbye
        if said and not hung_up:
            if GOODBYE not in said[-1][1]:
                self.fail("goodbye", last, f"the call ends at {last!r} without {GOODBYE}", moves)
            elif not final.customer_hangs_up_first:
                self.fail("goodbye", last, f"{last!r} says goodbye but does not mark "
                                           "customer_hangs_up_first", moves)
        if ended.refinable:  # the ordinary end: the whole call was made
            self.check_milestones([e.step for e in record.path], last, moves)
        self.check_snapshot(call, moves, rng)

    def check_milestones(self, visited: list[str], last: str, moves: list[Move]) -> None:
        position = 0
        for group in self.flow.milestones:
            found = next((i for i in range(position, len(visited)) if visited[i] in group), None)
            if found is None:
                names = " or ".join(sorted(group))
                self.fail("milestones", last, f"a completed call skipped {names}", moves)
                return
            position = found + 1

    def check_snapshot(self, call: Call, moves: list[Move], rng: random.Random) -> None:
        cut = rng.randrange(len(moves) + 1)
        clock = case_clock()  # shared: the resumed call reads on where the first one stopped
        first = replay(self.flow, call.context, moves[:cut], clock=clock)
        saved = json.loads(json.dumps(first.snapshot()))
        resumed = Call.restore(self.flow, saved, call.context, clock=clock)
        for move in moves[cut:]:
            apply(resumed, move)
        whole = replay_case(self.flow, call.context, moves)
        if resumed.record().model_dump(exclude={"call_id"}) != whole.record().model_dump(
                exclude={"call_id"}):
            step = first.state
            self.fail("snapshot", step, f"restoring a snapshot taken at {step!r} changes how "
                                        "the call continues", moves)


def check_flow(flow: Flow, *, calls: int = 300, seed: int = 0,
               forbidden: Iterable[str] = DEFAULT_FORBIDDEN,
               coverage: bool = True) -> list[Violation]:
    """Run ``calls`` seeded random calls plus a path cover; return what breaks a property."""
    checker = _Checker(flow, tuple(forbidden))
    rng = random.Random(seed)
    seen = Coverage([flow])
    with seen.collecting():
        for _ in range(calls):
            context = sample_context(flow, rng)
            try:
                call, moves = random_walk(flow, context, rng, clock=case_clock())
            except RuntimeError as err:
                checker.fail("ends", None, str(err))
                continue
            except Exception as err:
                checker.fail("runs", None, f"a call failed: {type(err).__name__}: {err}")
                continue
            checker.check_call(call, moves, rng)
        cover = path_cover(flow, sample_context(flow, rng), seed=seed)
        for moves in cover.paths:
            call = replay_case(flow, cover.context, moves)
            checker.check_call(call, moves, rng)
    if coverage:
        seen.percent()
        for item in seen.flows[flow.id].missed:
            checker.found.setdefault(("coverage", item.file, item.line), Violation(
                "coverage", flow.id, f"{item.kind} {item.key} was never reached in "
                                     f"{calls + len(cover.paths)} calls", item.file, item.line))
    return sorted(checker.found.values(), key=lambda v: (v.file, v.line or 0, v.prop))
