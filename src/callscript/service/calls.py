"""The one seam between the service and the runtime: start, restore, apply a turn, events.

The store is authoritative for revisions, event numbers and turn ids; this module
only drives a ``Call`` and collects what it announces. When the runtime gains
revisions, turn ids and numbered events, only these functions change.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from callscript.captures import to_json
from callscript.compile import AnswerOption, Flow
from callscript.errors import AnswerRejected, CallEnded, CaptureRejected
from callscript.runtime import Call, CallEvent

__all__ = ["Call", "Event", "TurnRefused", "TurnRequest", "apply_turn", "prompt", "record",
           "restore", "start"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Event:
    """One event of a call, as the outbox stores it (``detail`` is JSON data)."""

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
    return Event(event.kind, event.step, to_jsonable_python(detail))


def start(flow: Flow, context: Mapping[str, Any], clock: Clock) -> tuple[Call, list[Event]]:
    """A new call; its first event says where it started. Raises NotApplicableError."""
    events: list[Event] = []
    call = Call.start(flow, context, clock=clock, ids=time_ordered_id,
                      listeners=[lambda e: events.append(_event(e))])
    return call, [Event("started", call.state, {"flow": flow.id, "version": flow.version}),
                  *events]


def restore(flow: Flow, snapshot: str, context: Mapping[str, Any], clock: Clock
            ) -> tuple[Call, list[Event]]:
    """The stored call, and the list its next turn's events are collected into."""
    events: list[Event] = []
    call = Call.restore(flow, snapshot, context, clock=clock,
                        listeners=[lambda e: events.append(_event(e))])
    return call, events


def apply_turn(call: Call, turn: TurnRequest) -> None:
    """Apply one turn to the call, or raise TurnRefused / CallEnded with the call unchanged."""
    try:
        if turn.type == "answer":
            call.answer(turn.answer or "", turn.captures)
        elif turn.type == "interrupt":
            call.interrupt(turn.interruption or "")
        elif turn.type == "hold":
            call.hold()
        else:
            call.resume(turn.captures)
    except CallEnded:
        raise
    except CaptureRejected as err:
        raise TurnRefused(f"captures rejected at step {err.step!r}", "captures",
                          err.problems) from None
    except AnswerRejected as err:
        field = {"answer": "answer", "interrupt": "interruption"}.get(turn.type, "type")
        allowed = ", ".join(err.allowed) or "none"
        raise TurnRefused(f"not allowed at step {err.step!r}; allowed here: {allowed}",
                          field) from None


def snapshot_text(call: Call) -> str:
    return json.dumps(call.snapshot(), ensure_ascii=False, separators=(",", ":"))


def disposition(call: Call) -> str | None:
    outcome = call.outcome
    return outcome.value if outcome is not None and call.ended else None


def _option(option: AnswerOption) -> dict[str, Any]:
    return {"id": option.id, "label": option.label,
            "captures": [{"name": c.name, "type": c.type, "label": c.label,
                          "required": c.required, "choices": c.choices}
                         for c in option.captures]}


def prompt(call: Call, entered_at: datetime) -> dict[str, Any]:
    """What the agent sees now, as JSON data."""
    p = call.prompt
    limit = call.time_limit_seconds()
    hold = None if limit is None else {"limit_seconds": limit, "since": entered_at.isoformat(),
                                       "time_up": call.time_up()}
    return {
        "step": p.step, "title": p.step, "lines": list(p.lines), "notes": list(p.notes),
        "answers": [_option(a) for a in p.answers],
        "interruptions": [{"id": i.id, "label": i.label} for i in p.interruptions],
        "terminal": p.terminal, "disposition": disposition(call), "on_hold": p.on_hold,
        "hold": hold,
    }


def entered_at(snapshot: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(snapshot["path"][-1]["at"])


def record(call: Call, redacted: bool) -> dict[str, Any]:
    rec = call.record()
    return (rec.redacted() if redacted else rec).model_dump(mode="json")
