"""A live call: the current prompt, answers, interruptions, hold, snapshot, record.

A Call is detached from its flow's machine: the shared transitions machine moves
it by ``Event.trigger(call)`` (the call is the model, with a ``state`` attribute),
so starting a call builds nothing and registers nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from callscript.captures import from_json, to_json, validate_captures
from callscript.compile import (
    INTERRUPT_PREFIX,
    AnswerOption,
    CompiledStep,
    Flow,
    template_variables,
)
from callscript.errors import (
    AnswerRejected,
    CallEnded,
    CaptureRejected,
    ContextError,
    NotApplicableError,
    SnapshotError,
)
from callscript.privacy import PrivacyFilter, mask, mask_digit_runs
from callscript.record import CallRecord, Complaint, DispositionRef, Escalation, FollowUp, PathEntry
from callscript.rules.calendar import add_working_days, local_date
from callscript.snapshot import SNAPSHOT_FORMAT, snapshot_adapter
from callscript.spec import RETURN, EffectSpec

log = logging.getLogger("callscript.call")
log.addFilter(PrivacyFilter())  # a logger's filter runs before any handler, a host's too

MAX_INTERRUPTION_DEPTH = 4
HOLD = "hold"  # the interruption Call.hold raises (the built-in hold sub-dialogue)

# Testing hooks (coverage, the pytest plugin): called with every call started or
# restored. Empty in production, so a call pays one falsy check.
call_observers: list[Callable[[Call], None]] = []

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]
EventKind = Literal["step_entered", "captured", "follow_up", "escalated", "complaint", "ended"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the agent sees now."""

    step: str
    lines: tuple[str, ...]
    notes: tuple[str, ...]
    answers: tuple[AnswerOption, ...]
    interruptions: tuple[AnswerOption, ...]
    terminal: bool
    disposition: str | None  # the id, once the call has ended
    on_hold: bool

    def __repr__(self) -> str:  # lines may say the customer's phone number: mask it here
        lines = [mask_digit_runs(line) for line in self.lines]
        return (f"Prompt(step={self.step!r}, lines={lines!r}, "
                f"answers={[a.id for a in self.answers]!r}, terminal={self.terminal})")


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something the host may want to react to."""

    kind: EventKind
    call_id: str
    step: str
    detail: Any = None
    sensitive: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        detail = mask(self.detail) if self.sensitive else self.detail
        return f"CallEvent({self.kind}, call={self.call_id}, step={self.step}, detail={detail!r})"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


_NO_CAPTURES: Mapping[str, Any] = MappingProxyType({})


class _Entry:
    """A path entry while the call runs; PathEntry is its frozen record form."""

    __slots__ = ("answer", "at", "captures", "interruption", "lines", "step")

    def __init__(self, step: str, lines: tuple[str, ...], at: datetime) -> None:
        self.step, self.lines, self.at = step, lines, at
        self.answer: str | None = None
        self.interruption: str | None = None
        self.captures: Mapping[str, Any] = _NO_CAPTURES


CallContext = BaseModel  # a context: an instance of the flow's schema model (flow.schema.model)


def check_context(flow: Flow, context: CallContext | Mapping[str, Any], *,
                  placeholders: bool = False) -> CallContext:
    """The validated context, or ContextError naming invalid or missing fields (never values).

    A field the agent's lines may say, left unset or set to its placeholder (``XXXXXXX``),
    is refused unless ``placeholders`` asks for them on purpose (demo, rehearsal, print).
    """
    schema = flow.schema
    context = schema.validate(flow.id, context)
    missing = sorted(p for p in flow.required_context if schema.value(context, p) is None)
    if missing:
        raise ContextError(flow.id, f"missing context fields: {', '.join(missing)}", missing)
    # A declared optional field may be None (a line branches on it); an implicit one (agent,
    # deployment) left unset would be said as its placeholder, and so would a placeholder given.
    unset = sorted(p for p in flow.spoken_context
                   if (spec := schema.fields[p]).placeholder is not None
                   and ((value := schema.value(context, p)) == spec.placeholder
                        or (value is None and p in schema.implicit)))
    if unset and not placeholders:
        raise ContextError(flow.id, "the agent would say a placeholder; set these fields "
                                    f"(or pass placeholders=True to rehearse): {', '.join(unset)}",
                           unset)
    return schema.placeholder_context(context, only=unset) if unset else context


class Call:
    """One live call through a compiled flow. Create with ``Call.start`` or ``Call.restore``."""

    __slots__ = ("_clock", "_complaints", "_escalations", "_follow_ups", "_listeners",
                 "_outcome", "_path", "_prompt", "_stack", "call_id", "captured", "context",
                 "ended_at", "flow", "started_at", "state", "variables")

    def __init__(self, flow: Flow, context: CallContext, *, call_id: str, started_at: datetime,
                 clock: Clock, listeners: Iterable[Callable[[CallEvent], None]]) -> None:
        self.flow = flow
        self.context = context
        self.call_id = call_id
        self.started_at = started_at
        self.ended_at: datetime | None = None
        self.state = flow.start  # the attribute the transitions machine reads and sets
        self.captured: dict[str, Any] = {}
        self.variables = template_variables(context, self.captured)
        self._clock = clock
        self._listeners = list(listeners)
        self._path: list[_Entry] = []
        self._stack: list[str] = []
        self._follow_ups: list[FollowUp] = []
        self._complaints: list[Complaint] = []
        self._escalations: list[Escalation] = []
        self._outcome: str | None = None  # set by a disposition effect; see _outcome_at
        self._prompt: Prompt | None = None

    # -- creation --------------------------------------------------------------

    @classmethod
    def start(cls, flow: Flow, context: CallContext | Mapping[str, Any], *,
              clock: Clock = _utc_now, ids: IdFactory = _new_id,
              listeners: Iterable[Callable[[CallEvent], None]] = (),
              placeholders: bool = False) -> Call:
        """Start a call. Raises ContextError or NotApplicableError before anything is said.

        ``placeholders=True`` lets unset fields the lines say show as the schema's
        placeholders (``***``), for a demo or a rehearsal; never for a real call.
        """
        checked = check_context(flow, context, placeholders=placeholders)
        call = cls(flow, checked, call_id=ids(), started_at=clock(), clock=clock,
                   listeners=listeners)
        if flow.applies_when is not None and not flow.applies_when.evaluate(**call.variables):
            raise NotApplicableError(flow.id, flow.applies_when.source,
                                     flow.applies_reason or "its condition is false")
        step = flow.steps[flow.start]
        call._enter(step, step.render(call.variables))
        if step.effects:
            call.apply_effects(step.effects, step.id)
        log.debug("call %s started %s v%d", call.call_id, flow.id, flow.version)
        for observe in call_observers:
            observe(call)
        return call

    @classmethod
    def restore(cls, flow: Flow, snapshot: str | Mapping[str, Any],
                context: CallContext | Mapping[str, Any], *, clock: Clock = _utc_now,
                listeners: Iterable[Callable[[CallEvent], None]] = (),
                placeholders: bool = False) -> Call:
        """Continue a call from ``snapshot()``. Entry effects are not run again."""
        try:
            data = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
            snap = snapshot_adapter().validate_python(data)
        except (ValueError, ValidationError) as err:
            where = ""
            if isinstance(err, ValidationError):
                where = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in err.errors()}))
                where = f" (at {where})"
            raise SnapshotError(f"not a valid callscript snapshot{where}") from None
        rename = _migration(flow, snap["flow"], snap["version"])
        checked = check_context(flow, context, placeholders=placeholders)
        call = cls(flow, checked, call_id=snap["call_id"], started_at=snap["started_at"],
                   clock=clock, listeners=listeners)

        def step_id(old: str) -> str:
            new = rename.get(old, old)
            if new not in flow.steps:
                raise SnapshotError(f"snapshot names step {old!r}, which flow {flow.id!r} "
                                    f"v{flow.version} does not have")
            return new

        for item in snap["path"]:
            entry = _Entry(step_id(item["step"]), tuple(item["lines"]), item["at"])
            entry.answer, entry.interruption = item["answer"], item["interruption"]
            if item["captures"]:
                try:
                    entry.captures = {k: from_json(flow.captures[k], v)
                                      for k, v in item["captures"].items()}
                except (KeyError, ValidationError):
                    raise SnapshotError("snapshot has an invalid capture at step "
                                        f"{item['step']!r}") from None
                call.captured.update(entry.captures)
            call._path.append(entry)
        call.state = step_id(snap["step"])
        if not call._path or call._path[-1].step != call.state:
            raise SnapshotError("snapshot's path does not end at its step")
        call._stack = [step_id(s) for s in snap["stack"]]
        call._follow_ups = snap["follow_ups"]
        call._complaints = snap["complaints"]
        call._escalations = snap["escalations"]
        call._outcome = snap["outcome"]
        call.ended_at = snap["ended_at"]
        for observe in call_observers:
            observe(call)
        return call

    # -- reading ---------------------------------------------------------------

    @property
    def step(self) -> CompiledStep:
        return self.flow.steps[self.state]

    @property
    def ended(self) -> bool:
        return self.flow.steps[self.state].terminal

    @property
    def disposition(self) -> str | None:
        """The disposition id once ended; before that, the one an effect has set, if any."""
        step = self.flow.steps[self.state]
        return self._outcome_at(step) if step.terminal else self._outcome

    @property
    def return_stack(self) -> tuple[str, ...]:
        """Steps the call returns to when the current sub-dialogues end, innermost last."""
        return tuple(self._stack)

    @property
    def on_hold(self) -> bool:
        """Whether the customer is waiting: the current step has a time limit."""
        return self.flow.steps[self.state].time_limit is not None

    @property
    def prompt(self) -> Prompt:
        if self._prompt is None:
            self._prompt = self._build_prompt()
        return self._prompt

    def _build_prompt(self) -> Prompt:
        step = self.flow.steps[self.state]
        answers = step.options
        if step.guarded:
            answers = tuple(o for o in answers if (guard := step.answers[o.id].guard) is None
                            or guard.evaluate(**self.variables))
        interruptions: tuple[AnswerOption, ...] = ()
        if step.interruptible and not step.terminal and len(self._stack) < MAX_INTERRUPTION_DEPTH:
            interruptions = self.flow.interruption_options
        return Prompt(step.id, self._path[-1].lines, step.render_notes(self.variables), answers,
                      interruptions,
                      step.terminal, self._outcome_at(step), self.on_hold)

    # -- moving ----------------------------------------------------------------

    def answer(self, answer_id: str, captures: Mapping[str, Any] | None = None) -> Prompt:
        """Take the customer's answer. Raises AnswerRejected and changes nothing if not allowed."""
        step = self._require_live()
        allowed = [a.id for a in self.prompt.answers]
        if answer_id not in allowed:
            raise AnswerRejected(step.id, answer_id, allowed)
        chosen = step.answers[answer_id]
        if step.time_limit is not None and answer_id != step.time_limit[1] and self.time_up():
            raise AnswerRejected(step.id, answer_id, [step.time_limit[1]], reason=(
                f"the customer has waited longer than {self.time_limit_seconds()} seconds at "
                f"step {step.id!r}"))
        try:
            values = validate_captures(chosen.captures, captures or {})
        except ValueError as err:
            raise CaptureRejected(step.id, answer_id, [c.name for c in chosen.captures],
                                  err.args[0]) from None
        stack = self._stack
        if chosen.target == RETURN:
            if not stack:
                raise AnswerRejected(step.id, answer_id, allowed, "there is no step to return to")
            dest = stack[-1]
        else:
            dest = chosen.target
        captured = {**self.captured, **values}
        # Render before changing anything: a template error must leave the call as it was.
        variables = {**self.variables, "captured": captured}
        # The short re-ask is for coming back to a step an interruption left; a return_to
        # continuation reaches its step for the first time and says it in full.
        back = chosen.target == RETURN and any(e.step == dest and e.interruption
                                               for e in self._path)
        lines = (self.flow.steps[dest].render_return(variables) if back
                 else self.flow.steps[dest].render(variables))
        entry = self._path[-1]
        entry.answer, entry.captures = answer_id, values or _NO_CAPTURES
        self.captured.update(values)
        if chosen.return_to is not None:
            stack.append(chosen.return_to)
        self.flow.machine.events[answer_id].trigger(self)  # moves, runs entry and answer effects
        if chosen.target == RETURN:  # the trigger was an internal transition: go back by hand
            stack.pop()
            self.flow.machine.set_state(dest, model=self)  # back where we left: no entry effects
        self._after_move(dest, lines, values, step.id)
        return self.prompt

    def interrupt(self, interruption_id: str) -> Prompt:
        """Raise an interruption (customer busy, not the holder, …) from the current step."""
        step = self._require_live()
        allowed = [i.id for i in self.prompt.interruptions]
        if interruption_id not in allowed:
            raise AnswerRejected(step.id, interruption_id, allowed,
                                 f"interruption {interruption_id!r} cannot be raised at step "
                                 f"{step.id!r}")
        dest = self.flow.interruptions[interruption_id].start
        lines = self.flow.steps[dest].render(self.variables)
        self._path[-1].interruption = interruption_id
        self._stack.append(step.id)
        self.flow.machine.events[INTERRUPT_PREFIX + interruption_id].trigger(self)
        self._after_move(dest, lines, {}, step.id)
        return self.prompt

    def hold(self) -> Prompt:
        """Ask the customer to wait (请您稍等一下); the injected clock times the hold."""
        if HOLD not in self.flow.interruptions:
            raise AnswerRejected(self.state, HOLD, list(self.flow.interruptions),
                                 f"flow {self.flow.id!r} has no hold")
        return self.interrupt(HOLD)

    def time_limit_seconds(self) -> int | None:
        """The current step's time limit, if it has one."""
        limit = self.flow.steps[self.state].time_limit
        return None if limit is None else int(limit[0].evaluate(**self.variables))

    def time_up(self) -> bool:
        """Whether the call has stayed at a timed step (a hold) past its limit."""
        seconds = self.time_limit_seconds()
        if seconds is None:
            return False
        return self._clock() - self._path[-1].at > timedelta(seconds=seconds)

    def resume(self, captures: Mapping[str, Any] | None = None) -> Prompt:
        """End a wait: the step's first answer (back to the call), or its time-up answer."""
        step = self.flow.steps[self.state]
        if step.time_limit is None:
            raise AnswerRejected(self.state, "resume", [], "the call is not on hold")
        first = next(iter(step.answers))
        return self.answer(step.time_limit[1] if self.time_up() else first, captures)

    def _require_live(self) -> CompiledStep:
        step = self.flow.steps[self.state]
        if step.terminal:
            raise CallEnded(f"call {self.call_id} has ended at step {step.id!r}")
        return step

    def _enter(self, step: CompiledStep, lines: tuple[str, ...]) -> None:
        self._path.append(_Entry(step.id, lines, self._clock()))
        self._prompt = None
        if step.terminal:
            self.ended_at = self._path[-1].at

    def _after_move(self, dest: str, lines: tuple[str, ...], values: Mapping[str, Any],
                    source: str) -> None:
        step = self.flow.steps[dest]
        self._enter(step, lines)
        log.debug("call %s: %s -> %s", self.call_id, source, dest)
        if self._listeners:
            for name, value in values.items():
                sensitive = self.flow.captures[name].sensitive
                self._emit("captured", source, (name, value), sensitive=sensitive)
            self._emit("step_entered", dest, dest)
            if step.terminal:
                self._emit("ended", dest, self._outcome_at(step))

    # -- effects (called by the machine's on_enter, and at the start step) -----

    def apply_effects(self, effects: Iterable[EffectSpec], step: str) -> None:
        for effect in effects:
            self._apply(effect, step)

    def _apply(self, effect: EffectSpec, step: str) -> None:
        now = self._clock()
        if effect.follow_up is not None:
            rule, estimated = effect.follow_up.due, False
            due: date | datetime | None
            today = local_date(now)
            start = today
            if rule.from_context is not None:  # e.g. 15 days from the account opening
                start = self.flow.schema.value(self.context, rule.from_context) or today
            if rule.in_days is not None:
                due = max(start + timedelta(days=rule.in_days), today)
            elif rule.in_working_days is not None:
                due, estimated = add_working_days(start, rule.in_working_days)
                due = max(due, today)
            else:
                due = self.captured.get(rule.at_capture or "")
            item = FollowUp(kind=effect.follow_up.kind, due=due, estimated=estimated,
                            note=effect.follow_up.note, step=step)
            self._follow_ups.append(item)
            self._emit("follow_up", step, item)
        elif effect.escalate is not None:
            escalation = Escalation(reason=effect.escalate.reason, step=step, at=now)
            self._escalations.append(escalation)
            self._emit("escalated", step, escalation)
        elif effect.complaint is not None:
            spec = effect.complaint
            text = self.captured.get(spec.text_capture) if spec.text_capture else None
            reply_due, estimated = add_working_days(local_date(now), 3)
            complaint = Complaint(kind=spec.kind, text=None if text is None else str(text),
                                  step=step, at=now, reply_due=reply_due, estimated=estimated)
            self._complaints.append(complaint)
            self._emit("complaint", step, complaint)
            # the reply is on the follow-up list too, so hosts read one list of due dates
            reply = FollowUp(kind=f"reply_{spec.kind}", due=reply_due, estimated=estimated,
                             note="3个工作日内答复客户", step=step)
            self._follow_ups.append(reply)
            self._emit("follow_up", step, reply)
        elif effect.disposition is not None:
            self._outcome = effect.disposition

    def _outcome_at(self, step: CompiledStep) -> str | None:
        """A disposition effect refines a refinable end (completed); any other end wins."""
        if (step.disposition is not None and self._outcome is not None
                and self.flow.dispositions[step.disposition].refinable):
            return self._outcome
        return step.disposition

    def _emit(self, kind: EventKind, step: str, detail: Any, sensitive: bool = False) -> None:
        if not self._listeners:
            return
        event = CallEvent(kind, self.call_id, step, detail, sensitive)
        for listener in self._listeners:
            listener(event)

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        """Call ``listener`` with every CallEvent from now on."""
        self._listeners.append(listener)

    # -- persistence -------------------------------------------------------------

    def _path_entries(self) -> list[PathEntry]:
        return [PathEntry.model_construct(step=e.step, lines=list(e.lines), at=e.at,
                                          answer=e.answer, interruption=e.interruption,
                                          captures=_json_captures(e.captures))
                for e in self._path]

    def snapshot(self) -> dict[str, Any]:
        """The call's state as JSON-compatible data; store it between requests."""
        return {
            "format": SNAPSHOT_FORMAT,
            "flow": self.flow.id,
            "version": self.flow.version,
            "call_id": self.call_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "step": self.state,
            "stack": list(self._stack),
            "outcome": self._outcome,
            "path": [  # lines stay tuples: JSON arrays, and shared, not copied
                {"step": e.step, "lines": e.lines, "at": e.at.isoformat(),
                 "answer": e.answer, "interruption": e.interruption,
                 "captures": _json_captures(e.captures)}
                for e in self._path
            ],
            "follow_ups": [f.model_dump(mode="json") for f in self._follow_ups],
            "complaints": [c.model_dump(mode="json") for c in self._complaints],
            "escalations": [e.model_dump(mode="json") for e in self._escalations],
        }

    def record(self) -> CallRecord:
        """The call's record so far (complete once the call has ended)."""
        step = self.flow.steps[self.state]
        return CallRecord(
            call_id=self.call_id, flow_id=self.flow.id, flow_version=self.flow.version,
            agent_id=_field(self.context, "agent", "id"),
            customer_ref=_field(self.context, "customer", "reference"),
            started_at=self.started_at, ended_at=self.ended_at,
            disposition=self._disposition_ref(),
            path=self._path_entries(), captures=_json_captures(self.captured),
            sensitive_fields=sorted(n for n, c in self.flow.captures.items() if c.sensitive),
            follow_ups=list(self._follow_ups), complaints=list(self._complaints),
            escalations=list(self._escalations),
            waited_for_customer_hangup=step.customer_hangs_up_first,
        )

    def _disposition_ref(self) -> DispositionRef | None:
        found = self.disposition
        if found is None or not self.ended:
            return None
        declared = self.flow.dispositions[found]
        return DispositionRef(id=declared.id, code=declared.code, label=declared.label)

    def __repr__(self) -> str:
        return (f"<Call {self.call_id} {self.flow.id} v{self.flow.version} at {self.state!r}"
                f"{' (ended)' if self.ended else ''}>")


def _field(context: CallContext, part: str, name: str) -> Any:
    """``agent.id`` and ``customer.reference`` go into the record when the schema has them."""
    return getattr(getattr(context, part, None), name, None)


def _json_captures(captures: Mapping[str, Any]) -> dict[str, Any]:
    if not captures:
        return {}
    return {name: to_json(value) for name, value in captures.items()}


def _migration(flow: Flow, snapshot_flow: str, version: int) -> Mapping[str, str]:
    if snapshot_flow != flow.id:
        raise SnapshotError(f"snapshot is of flow {snapshot_flow!r}, not {flow.id!r}")
    if version == flow.version:
        return {}
    if version in flow.migrations:
        return flow.migrations[version]
    raise SnapshotError(
        f"snapshot is of {flow.id!r} v{version}, the flow is v{flow.version}, and the flow "
        f"declares no migration from v{version}")
