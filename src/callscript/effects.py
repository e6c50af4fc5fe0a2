"""Effects of entering a step or taking an answer: follow-ups, complaints, escalations, outcome.

Pure: an effect reads the turn's one clock reading and the captured values and
adds to the turn's lists; nothing outside the turn being computed changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from callscript.compile import Flow
from callscript.rules.calendar import add_working_days, local_date
from callscript.spec import EffectSpec
from callscript.state import CallState, ComplaintItem, EscalationItem, FollowUpItem

Draft = tuple[str, str, Any, bool]  # event kind, step, detail, whether the detail is personal

REPLY_NOTE = "3个工作日内答复客户"


@dataclass(slots=True)
class Changes:
    """What the effects of one turn add, collected before anything is applied."""

    follow_ups: list[FollowUpItem] = field(default_factory=list)
    complaints: list[ComplaintItem] = field(default_factory=list)
    escalations: list[EscalationItem] = field(default_factory=list)
    outcome: str | None = None
    drafts: list[Draft] = field(default_factory=list)

    @classmethod
    def of(cls, state: CallState) -> Changes:
        return cls(list(state.follow_ups), list(state.complaints), list(state.escalations),
                   state.outcome)


def _due(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date | datetime) else None


def apply_effects(changes: Changes, effects: Iterable[EffectSpec], step: str, now: datetime,
                  captured: Mapping[str, Any]) -> None:
    for effect in effects:
        if effect.follow_up is not None:
            rule, estimated = effect.follow_up.due, False
            due: date | datetime | None
            if rule.in_days is not None:
                due = local_date(now) + timedelta(days=rule.in_days)
            elif rule.in_working_days is not None:
                due, estimated = add_working_days(local_date(now), rule.in_working_days)
            else:
                due = captured.get(rule.at_capture or "")
            item = FollowUpItem(kind=effect.follow_up.kind, due=_due(due), estimated=estimated,
                                note=effect.follow_up.note, step=step)
            changes.follow_ups.append(item)
            changes.drafts.append(("follow_up", step, item, False))
        elif effect.escalate is not None:
            escalation = EscalationItem(reason=effect.escalate.reason, step=step, at=now)
            changes.escalations.append(escalation)
            changes.drafts.append(("escalated", step, escalation, False))
        elif effect.complaint is not None:
            spec = effect.complaint
            text = captured.get(spec.text_capture) if spec.text_capture else None
            reply_due, estimated = add_working_days(local_date(now), 3)
            complaint = ComplaintItem(kind=spec.kind, text=None if text is None else str(text),
                                      step=step, at=now, reply_due=reply_due, estimated=estimated)
            changes.complaints.append(complaint)
            changes.drafts.append(("complaint", step, complaint, True))
            # the reply is on the follow-up list too, so hosts read one list of due dates
            reply = FollowUpItem(kind=f"reply_{spec.kind}", due=reply_due.isoformat(),
                                 estimated=estimated, note=REPLY_NOTE, step=step)
            changes.follow_ups.append(reply)
            changes.drafts.append(("follow_up", step, reply, False))
        elif effect.disposition is not None:
            changes.outcome = effect.disposition


_APPOINTMENTS: dict[int, tuple[Flow, frozenset[str]]] = {}


def appointments(flow: Flow) -> frozenset[str]:
    """Captures a follow-up is due at: agreed times, which may not lie in the past."""
    known = _APPOINTMENTS.get(id(flow))
    if known is not None and known[0] is flow:
        return known[1]
    names = frozenset(
        e.follow_up.due.at_capture for step in flow.steps.values()
        for effects in (step.effects, *(a.effects for a in step.answers.values()))
        for e in effects if e.follow_up is not None and e.follow_up.due.at_capture)
    if len(_APPOINTMENTS) > 256:  # flows loaded again and again (tests, reloads): stay small
        _APPOINTMENTS.clear()
    _APPOINTMENTS[id(flow)] = (flow, names)
    return names
