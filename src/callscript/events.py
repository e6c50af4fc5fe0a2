"""Events a call announces to its listeners after a turn is applied.

| kind | when | detail |
| --- | --- | --- |
| ``started`` | ``Call.start``, first | ``{"flow": id, "version": n}`` |
| ``captured`` | a turn recorded a value | ``(name, value)``; ``sensitive`` when it is personal data |
| ``step_entered`` | every turn, and the start | the step id |
| ``follow_up`` | a follow-up was scheduled | ``FollowUp`` |
| ``escalated`` | an escalation to a superior | ``Escalation`` |
| ``complaint`` | a complaint or suggestion was taken | ``Complaint`` (``sensitive``: the words) |
| ``ended`` | the call reached a terminal step, last | the ``Outcome`` |

Every event carries the call id, a per-call sequence number (1, 2, … over the
whole call, across restores), the revision the turn produced and ``at``, the
turn's one clock reading. Restoring announces nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from callscript.privacy import mask_text
from callscript.record import Complaint, Escalation, FollowUp
from callscript.state import ComplaintItem, EscalationItem, FollowUpItem

EventKind = Literal["started", "step_entered", "captured", "follow_up", "escalated", "complaint",
                    "ended"]
Listener = Callable[["CallEvent"], None]


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something the host may want to react to.

    ``repr`` shows no captured value, and masks digit runs and the call's known
    personal values in the rest; ``detail`` holds the values, for the host.
    """

    kind: EventKind
    call_id: str
    seq: int
    revision: int
    at: datetime
    step: str
    detail: Any = None
    sensitive: bool = field(default=False, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)  # known personal values

    def __repr__(self) -> str:
        shown = repr(self.detail)
        if self.kind == "captured":  # a value may be a name or free text: never shown here
            shown = f"({self.detail[0]!r}, {'****' if self.sensitive else '…'})"
        return (f"CallEvent({self.kind}, call={self.call_id}, seq={self.seq}, "
                f"revision={self.revision}, step={self.step}, "
                f"detail={mask_text(shown, self.secrets)})")

    __str__ = __repr__


def _due(text: str | None) -> date | datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def follow_up(item: FollowUpItem) -> FollowUp:
    return FollowUp.model_construct(kind=item.kind, due=_due(item.due), estimated=item.estimated,
                                    note=item.note, step=item.step)


def complaint(item: ComplaintItem) -> Complaint:
    return Complaint.model_construct(kind=item.kind, text=item.text, step=item.step, at=item.at,
                                     reply_due=item.reply_due, estimated=item.estimated)


def escalation(item: EscalationItem) -> Escalation:
    return Escalation.model_construct(reason=item.reason, step=item.step, at=item.at)


def public_detail(detail: Any) -> Any:
    """The record model of an effect item; anything else as it is."""
    if isinstance(detail, FollowUpItem):
        return follow_up(detail)
    if isinstance(detail, ComplaintItem):
        return complaint(detail)
    if isinstance(detail, EscalationItem):
        return escalation(detail)
    return detail


def deliver(listeners: Sequence[Listener], events: Iterable[CallEvent]) -> list[Exception]:
    """Every event to every listener, in order; a raising listener does not stop the others.

    Returns what the listeners raised, for the caller to report once.
    """
    failures: list[Exception] = []
    for event in events:
        for listener in listeners:
            try:
                listener(event)
            except Exception as err:  # reported together, by ListenerError
                failures.append(err)
    return failures
