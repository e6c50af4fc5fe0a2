"""The call record for the CRM (客管系统): what was said, captured and promised.

A record holds personal data exactly as captured, because the CRM needs it.
``redacted()`` gives a copy safe to log or print; ``repr`` never shows
captures or lines.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from callscript.privacy import mask, mask_text


class _Model(BaseModel):
    # built on first use, not at import: loading flows does not need records
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PathEntry(_Model):
    """One step of the call: what the agent said there and how the customer answered."""

    step: str
    lines: list[str]
    at: datetime
    answer: str | None = None
    interruption: str | None = None
    captures: dict[str, Any] = Field(
        default_factory=dict, description="JSON values: dates and datetimes in ISO 8601, "
                                          "decimals as text")

    def __repr__(self) -> str:  # no lines or values: they may hold personal data
        return (f"PathEntry(step={self.step!r}, answer={self.answer!r}, "
                f"interruption={self.interruption!r}, captured={sorted(self.captures)!r})")

    __str__ = __repr__


def _parse_due(value: Any) -> Any:
    # "2027-01-26T00:00:00+08:00" is an appointment, "2027-01-26" a day; pydantic's lax
    # union would turn a midnight appointment into a day.
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


Due = Annotated[datetime | date | None, BeforeValidator(_parse_due)]


class FollowUp(_Model):
    kind: str
    due: Due = Field(description="A day, or an agreed time; None when it was not given")
    estimated: bool = Field(False, description="Past the official calendar's published years")
    note: str = ""
    step: str


class Escalation(_Model):
    reason: str
    step: str
    at: datetime


class Complaint(_Model):
    kind: Literal["complaint", "suggestion"]
    text: str | None
    step: str
    at: datetime
    reply_due: date
    estimated: bool = False

    def __repr__(self) -> str:  # the customer's words may hold personal data
        return f"Complaint(kind={self.kind!r}, step={self.step!r}, reply_due={self.reply_due})"

    __str__ = __repr__


class DispositionRef(_Model):
    """How the call ended, as the library declares it: id, the CRM's code, the label."""

    id: str
    code: str
    label: str


class CallRecord(_Model):
    """Everything about one call, ready for the CRM."""

    call_id: str
    flow_id: str
    flow_version: int
    agent_id: str | None
    customer_ref: str | None
    started_at: datetime
    ended_at: datetime | None
    disposition: DispositionRef | None = Field(description="None while the call is live")
    path: list[PathEntry]
    captures: dict[str, Any]
    sensitive_fields: list[str] = Field(description="Names of captures that are personal data")
    follow_ups: list[FollowUp] = Field(default_factory=list)
    complaints: list[Complaint] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    waited_for_customer_hangup: bool = Field(
        False, description="The closing was said: the agent hangs up after the customer")

    def redacted(self) -> CallRecord:
        """A copy safe to log or print: personal data masked everywhere it appears.

        Sensitive captures are masked as values; their values, and every run of five
        or more digits (phone and ID numbers), are masked in all free text: the lines
        said, other captures (a phone typed into a remark), complaints, notes.
        """
        secret = [v for k, v in self.captures.items() if k in self.sensitive_fields]
        for entry in self.path:
            secret.extend(v for k, v in entry.captures.items() if k in self.sensitive_fields)

        def text(value: str) -> str:
            return mask_text(value, secret)

        def hide(captures: dict[str, Any]) -> dict[str, Any]:
            return {k: (mask(v) if k in self.sensitive_fields else text(v) if isinstance(v, str)
                        else v) if v is not None else v
                    for k, v in captures.items()}

        path = [
            entry.model_copy(update={
                "lines": [text(line) for line in entry.lines],
                "captures": hide(entry.captures),
            })
            for entry in self.path
        ]
        complaints = [c.model_copy(update={"text": text(c.text) if c.text else c.text})
                      for c in self.complaints]
        follow_ups = [f.model_copy(update={"note": text(f.note)}) for f in self.follow_ups]
        escalations = [e.model_copy(update={"reason": text(e.reason)}) for e in self.escalations]
        return self.model_copy(update={"path": path, "captures": hide(self.captures),
                                       "complaints": complaints, "follow_ups": follow_ups,
                                       "escalations": escalations})

    def __repr__(self) -> str:
        return (f"CallRecord(call_id={self.call_id!r}, flow={self.flow_id!r} v{self.flow_version}, "
                f"disposition={self.disposition.id if self.disposition else None}, steps={len(self.path)})")

    __str__ = __repr__
