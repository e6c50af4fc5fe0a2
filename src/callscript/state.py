"""The state of a call as plain, immutable data: what a turn reads and what it produces.

The parts are msgspec structs so that a snapshot is encoded and decoded (and
validated) by msgspec directly, without copying into other shapes. Bounds on
sizes are part of the types: a restore refuses anything past them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

MAX_HISTORY = 2000  # path entries one call may have; a turn past it is refused
MAX_STACK = 32  # pending returns (interruptions nest up to 4; return_to adds a few)
MAX_LINES = 64  # lines or notes said at one step
MAX_TURN_IDS = 16  # recent turn ids kept for idempotent retries
MAX_ID = 200  # characters of an id (call, step, answer, turn)

Aware = Annotated[datetime, msgspec.Meta(tz=True)]
# Strings are bounded by the snapshot's size (snapshot.MAX_BYTES), not one by one: a
# length check per string would cost more than the rest of the decoding.
Text = str
Id = str
Scalar = bool | int | float | Text | None
Captures = Annotated[dict[Id, Scalar], msgspec.Meta(max_length=64)]


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Entry(_Data, frozen=True):
    """One step of the path: the lines said there, and how the customer answered."""

    step: Id
    lines: Annotated[tuple[Text, ...], msgspec.Meta(max_length=MAX_LINES)]
    at: Aware
    answer: Id | None = None
    interruption: Id | None = None
    captures: Captures = {}  # JSON forms (captures.to_json); msgspec copies the default


class FollowUpItem(_Data, frozen=True):
    kind: Id
    due: Text | None  # ISO date, or an aware ISO datetime for an agreed time
    estimated: bool
    note: Text
    step: Id


class ComplaintItem(_Data, frozen=True):
    kind: Literal["complaint", "suggestion"]
    text: Text | None
    step: Id
    at: Aware
    reply_due: date
    estimated: bool


class EscalationItem(_Data, frozen=True):
    reason: Text
    step: Id
    at: Aware


class TurnMemo(_Data, frozen=True):
    """A turn that carried a turn id: its input digest and where it led."""

    id: Id
    digest: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    revision: Annotated[int, msgspec.Meta(ge=1)]  # the revision the turn produced
    entry: Annotated[int, msgspec.Meta(ge=0)]  # the path entry it entered
    depth: Annotated[int, msgspec.Meta(ge=0, le=MAX_STACK)]  # pending returns there


class Fingerprint(_Data, frozen=True):
    """An HMAC of the customer and billing parts of the context, with a per-call salt."""

    salt: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$")]
    digest: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


@dataclass(frozen=True, slots=True)
class CallState:
    """Everything a turn changes. A turn builds a new one; the call swaps it in whole."""

    revision: int
    step: str
    stack: tuple[str, ...]
    outcome: str | None  # set by an outcome effect; a terminal step's own wins otherwise
    ended_at: datetime | None
    path: tuple[Entry, ...]
    follow_ups: tuple[FollowUpItem, ...]
    complaints: tuple[ComplaintItem, ...]
    escalations: tuple[EscalationItem, ...]
    turns: tuple[TurnMemo, ...]
    events: int  # events announced so far: the next event's sequence number is events + 1
    captured: dict[str, Any]  # typed values, folded from the path; never mutated once built
