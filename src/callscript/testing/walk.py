"""Seeded random walks through a flow: valid answers, captures and interruptions.

Pure Python and fast (no hypothesis), so benchmarks and QA can run thousands of
complete calls; every walk can be replayed move by move.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from callscript.captures import MonthDay
from callscript.compile import Flow
from callscript.rules.calendar import CHINA
from callscript.runtime import Call, CallEvent
from callscript.spec import CaptureSpec
from callscript.testing.samples import sample_context as sample_context  # re-exported

_TEXT = ("信号不好", "资费有点贵", "一切正常", "出差在外", "想办宽带", "{{ 7*7 }}", "<b>好</b>")
_PHONES = ("13812345678", "0571-87650000", "+8613900001111", "15000002222")


def sample_capture(spec: CaptureSpec, rng: random.Random, today: date | None = None) -> Any:
    """A valid value for ``spec``; dates and times lie ahead of ``today`` (appointments)."""
    if spec.type == "text":
        return rng.choice(_TEXT)
    if spec.type == "phone":
        return rng.choice(_PHONES)
    base = today or date(2026, 11, 23)
    if spec.type == "date":
        return base + timedelta(days=rng.randrange(1, 700))
    if spec.type == "datetime":
        start = datetime(base.year, base.month, base.day, 9, tzinfo=CHINA) + timedelta(days=1)
        return start + timedelta(hours=rng.randrange(2000))
    if spec.type == "month_day":  # a birthday: a month and day, or a full date in the past
        if rng.random() < 0.5:
            return MonthDay(rng.randrange(1, 13), rng.randrange(1, 29))
        return date(1940, 1, 1) + timedelta(days=rng.randrange(25000))
    if spec.type == "int":
        return rng.randrange(100)
    if spec.type == "decimal":
        return Decimal(rng.randrange(10000)) / 100
    if spec.type == "bool":
        return rng.random() < 0.5
    return rng.choice(spec.choices or ("",))


@dataclass(frozen=True, slots=True)
class Move:
    kind: Literal["answer", "interrupt"]
    id: str
    captures: Mapping[str, Any] = field(default_factory=dict)


def _choose(call: Call, rng: random.Random, interrupt_rate: float,
            skip_optional_rate: float) -> Move:
    prompt = call.prompt
    if prompt.interruptions and rng.random() < interrupt_rate:
        return Move("interrupt", rng.choice(prompt.interruptions).id)
    option = rng.choice(prompt.answers)
    today = call.updated_at.astimezone(CHINA).date()
    captures = {c.name: sample_capture(c, rng, today) for c in option.captures
                if c.required or rng.random() >= skip_optional_rate}
    return Move("answer", option.id, captures)


def apply(call: Call, move: Move) -> None:
    if move.kind == "interrupt":
        call.interrupt(move.id)
    else:
        call.answer(move.id, move.captures)


def random_walk(flow: Flow, context: BaseModel | Mapping[str, Any], rng: random.Random, *,
                clock: Callable[[], datetime] | None = None, interrupt_rate: float = 0.15,
                skip_optional_rate: float = 0.3, max_moves: int = 400,
                listeners: Iterable[Callable[[CallEvent], None]] = ()) -> tuple[Call, list[Move]]:
    """Walk ``flow`` to a terminal step with random valid moves; return the call and moves."""
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    call = Call.start(flow, context, listeners=listeners, **extra)
    moves: list[Move] = []
    while not call.ended:
        if len(moves) >= max_moves:
            raise RuntimeError(f"walk through {flow.id} did not end within {max_moves} moves")
        move = _choose(call, rng, interrupt_rate, skip_optional_rate)
        apply(call, move)
        moves.append(move)
    return call, moves


def replay(flow: Flow, context: BaseModel | Mapping[str, Any], moves: Iterable[Move], *,
           clock: Callable[[], datetime] | None = None) -> Call:
    """Run ``moves`` from the start of ``flow``."""
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    call = Call.start(flow, context, **extra)
    for move in moves:
        apply(call, move)
    return call

