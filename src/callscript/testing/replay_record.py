"""Replay a call record against a flow (another version, a changed file) and say what differs.

A complete record, unredacted, with the context the call ran with, holds every
answer, interruption and capture, and the time of every turn. Replayed on a clock
that reads those times again, the same flow gives the same record; a changed flow
gives the differences, each located in the record's path:

    differences = replay_record(flow, record, context)   # [] when nothing differs

Differences name steps, answers, dispositions and counts, never what was said or
captured (the record holds personal data; the report may be logged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from callscript.compile import Flow
from callscript.errors import CallscriptError
from callscript.record import CallRecord
from callscript.runtime import Call
from callscript.testing.walk import Move, apply


def moves_of(record: CallRecord) -> list[Move]:
    """The answers and interruptions of the record, in order."""
    out: list[Move] = []
    for entry in record.path:
        if entry.answer is not None:
            out.append(Move("answer", entry.answer, entry.captures))
        elif entry.interruption is not None:
            out.append(Move("interrupt", entry.interruption))
    return out


def _recorded_clock(record: CallRecord) -> Callable[[], datetime]:
    """The start, then the time each later step was entered; then the last time again."""
    times = iter([record.started_at, *(e.at for e in record.path[1:])])
    last = [record.started_at]

    def clock() -> datetime:
        last[0] = next(times, last[0])
        return last[0]
    return clock


def replay_record(flow: Flow, record: CallRecord,
                  context: BaseModel | Mapping[str, Any]) -> list[str]:
    """Replay ``record``'s moves through ``flow``; every difference from the record, in words."""
    differences: list[str] = []
    if (record.flow_id, record.flow_version) != (flow.id, flow.version):
        differences.append(f"flow: recorded {record.flow_id} v{record.flow_version}, "
                           f"replayed on {flow.id} v{flow.version}")
    call = Call.start(flow, context, clock=_recorded_clock(record))
    moves = moves_of(record)
    for number, move in enumerate(moves):
        try:
            apply(call, move)
        except CallscriptError as err:  # refused now: the rest cannot be replayed
            differences.append(f"move {number + 1} ({move.kind} {move.id!r} at step "
                               f"{call.state!r}): refused now ({type(err).__name__})")
            break
    again = call.record()
    differences += list(_compare(record, again))
    return differences


def _compare(was: CallRecord, now: CallRecord) -> Iterator[str]:
    for i in range(max(len(was.path), len(now.path))):
        old = was.path[i] if i < len(was.path) else None
        new = now.path[i] if i < len(now.path) else None
        if new is None:
            assert old is not None
            yield f"path[{i}]: step {old.step!r} is not reached now"
            continue
        if old is None:
            yield f"path[{i}]: step {new.step!r} was not in the record"
            continue
        if old.step != new.step:
            yield f"path[{i}]: recorded step {old.step!r}, now {new.step!r}"
            return  # after a divergence everything differs: the first place is the news
        if len(old.lines) != len(new.lines):
            yield f"path[{i}] ({old.step}): {len(old.lines)} lines recorded, {len(new.lines)} now"
        else:
            for k, (a, b) in enumerate(zip(old.lines, new.lines, strict=True)):
                if a != b:
                    yield f"path[{i}] ({old.step}): line {k + 1} is worded differently"
        if old.at != new.at:
            yield f"path[{i}] ({old.step}): entered at another time"
    ended = (was.disposition.id if was.disposition else None,
             now.disposition.id if now.disposition else None)
    if ended[0] != ended[1]:
        yield f"disposition: recorded {ended[0]}, now {ended[1]}"
    if sorted(was.captures) != sorted(now.captures) or was.captures != now.captures:
        changed = sorted(k for k in {*was.captures, *now.captures}
                         if was.captures.get(k) != now.captures.get(k))
        yield f"captures differ: {', '.join(changed)}"
    for name in ("follow_ups", "complaints", "escalations"):
        old_items, new_items = getattr(was, name), getattr(now, name)
        if old_items != new_items:
            kinds = [getattr(x, "kind", getattr(x, "step", "")) for x in old_items]
            now_kinds = [getattr(x, "kind", getattr(x, "step", "")) for x in new_items]
            yield f"{name}: recorded {kinds}, now {now_kinds}" if kinds != now_kinds else (
                f"{name}: the same kinds {kinds}, with other details (due, step or time)")
    if was.waited_for_customer_hangup != now.waited_for_customer_hangup:
        yield (f"waited_for_customer_hangup: recorded {was.waited_for_customer_hangup}, "
               f"now {now.waited_for_customer_hangup}")
