"""The one seam between the service and the runtime: start, restore, take a turn, events.

The store stays authoritative: a turn is written only by the conditional update of
the call's row on its revision. The runtime checks the same revision and keeps the
turn id (the request's Idempotency-Key) in the snapshot, so a retry the store no
longer remembers (its key expired) is still answered, not taken twice. Events
carry the runtime's per-call numbers (``started`` is 1), which the outbox stores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from callscript.captures import to_json
from callscript.compile import AnswerOption, Flow
from callscript.errors import (
    AnswerRejected,
    ArgumentError,
    CallEnded,
    CaptureRejected,
    StaleRevision,
    TurnIdReused,
)
from callscript.runtime import Call, CallEvent

__all__ = ["Call", "Event", "StaleRevision", "TurnIdReused", "TurnRefused", "TurnRequest",
           "apply_turn", "prompt", "record", "restore", "start"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Event:
    """One event of a call, as the outbox stores it (``detail`` is JSON data)."""

    seq: int  # the runtime's number: 1, 2, … within the call, across restores
    kind: str
    step: str
    detail: Any


@dataclass(frozen=True)
class TurnRequest:
    type: str  # answer | interrupt | hold | resume
    answer: str | None = None
    interruption: str | None = None
    captures: Mapping[str, Any] | None = None


class TurnRefused(Exception):
    """The runtime refused the turn; the call is unchanged. Never holds an input value."""

    def __init__(self, detail: str, field: str, problems: tuple[str, ...] = ()) -> None:
        self.detail, self.field, self.problems = detail, field, problems
        super().__init__(detail)


def time_ordered_id() -> str:
    """32 hex digits: milliseconds first, so ids sort by creation (list cursors rely on it)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def _event(event: CallEvent) -> Event:
    detail: Any = event.detail
    if event.kind == "captured":
        name, value = detail
        detail = {"name": name, "value": to_json(value)}
    return Event(event.seq, event.kind, event.step, to_jsonable_python(detail))


def start(flow: Flow, context: Mapping[str, Any], clock: Clock) -> tuple[Call, list[Event]]:
    """A new call and its events (``started`` first). Raises ContextError, NotApplicableError."""
    events: list[Event] = []
    call = Call.start(flow, context, clock=clock, ids=time_ordered_id,
                      listeners=[lambda e: events.append(_event(e))])
    return call, events


def restore(flow: Flow, snapshot: str | bytes, context: Mapping[str, Any], clock: Clock
            ) -> tuple[Call, list[Event]]:
    """The stored call, and the list its next turn's events are collected into."""
    events: list[Event] = []
    call = Call.restore(flow, snapshot, context, clock=clock,
                        listeners=[lambda e: events.append(_event(e))])
    return call, events


def apply_turn(call: Call, turn: TurnRequest, revision: int, turn_id: str | None) -> bool:
    """Apply one turn at ``revision``; False when the runtime answered it from its memory of
    ``turn_id`` (a retry: nothing changed). Raises TurnRefused, CallEnded, StaleRevision or
    TurnIdReused with the call unchanged."""
    try:
        if turn.type == "answer":
            call.answer(turn.answer or "", turn.captures, revision=revision, turn_id=turn_id)
        elif turn.type == "interrupt":
            call.interrupt(turn.interruption or "", revision=revision, turn_id=turn_id)
        elif turn.type == "hold":
            call.hold(revision=revision, turn_id=turn_id)
        else:
            call.resume(turn.captures, revision=revision, turn_id=turn_id)
    except (CallEnded, StaleRevision, TurnIdReused):
        raise
    except ArgumentError as err:  # a value of the wrong JSON type; names the parameter only
        raise TurnRefused(f"{err.parameter} has the wrong type", err.parameter) from None
    except CaptureRejected as err:
        raise TurnRefused(f"captures rejected at step {err.step!r}", "captures",
                          err.problems) from None
    except AnswerRejected as err:
        field = {"answer": "answer", "interrupt": "interruption"}.get(turn.type, "type")
        allowed = ", ".join(err.allowed) or "none"
        raise TurnRefused(f"not allowed at step {err.step!r}; allowed here: {allowed}",
                          field) from None
    return call.revision == revision + 1


def snapshot_text(call: Call) -> str:
    """The snapshot (format callscript.snapshot/2) as JSON text, to be encrypted and stored."""
    return call.snapshot_json().decode("utf-8")


def disposition(call: Call) -> str | None:
    """The disposition id once the call has ended (before, an effect's is provisional)."""
    return call.disposition if call.ended else None


def _option(option: AnswerOption) -> dict[str, Any]:
    return {"id": option.id, "label": option.label,
            "captures": [{"name": c.name, "type": c.type, "label": c.label,
                          "required": c.required, "choices": c.choices}
                         for c in option.captures]}


def prompt(call: Call) -> dict[str, Any]:
    """What the agent sees now, as JSON data."""
    p = call.prompt
    limit = call.time_limit_seconds()
    hold = None if limit is None else {"limit_seconds": limit,
                                       "since": call.updated_at.isoformat(),  # entered the wait
                                       "time_up": call.time_up()}
    return {
        "step": p.step, "title": p.title, "lines": list(p.lines), "notes": list(p.notes),
        "answers": [_option(a) for a in p.answers],
        "interruptions": [{"id": i.id, "label": i.label} for i in p.interruptions],
        "terminal": p.terminal, "disposition": p.disposition if p.terminal else None,
        "on_hold": p.on_hold, "hold": hold, "returned": p.returned,
    }


def record(call: Call, redacted: bool) -> dict[str, Any]:
    rec = call.record()
    return (rec.redacted() if redacted else rec).model_dump(mode="json")
