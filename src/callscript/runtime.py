"""A live call: a thin shell around the pure transition in ``callscript.turn``.

Every turn (answer, interrupt, hold, resume) goes the same way: check the
arguments, answer a replayed turn id from memory, refuse a stale revision, read
the clock once, compute the whole next state (``turn``), swap it in with one
assignment, then announce the turn's events. A listener that raises cannot undo
or half-apply the turn: every listener still gets every event, and the call
then raises ``ListenerError`` (turn applied, its prompt and revision attached).

A call never builds a ``transitions`` machine of its own and is never added to
one: the flow's machine (one per flow, built on the flow's first turn) is the
table the turn looks destinations up in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import msgspec

from callscript import turn as transition
from callscript.arguments import check_call_args, check_captures, check_turn_args
from callscript.captures import from_json
from callscript.clocks import Clock, IdFactory, new_id, peek, read, utc_now
from callscript.compile import AnswerOption, CompiledStep, Flow, template_variables
from callscript.contextual import (
    CallContext,
    check_context,
    deployment_zone,
    personal_values,
    record_identity,
)
from callscript.effects import appointments
from callscript.errors import (
    AnswerRejected,
    ArgumentError,
    ListenerError,
    NotApplicableError,
    SnapshotError,
    StaleRevision,
    TurnIdReused,
)
from callscript.events import CallEvent, Listener, deliver, public_detail
from callscript.events import complaint as public_complaint
from callscript.events import escalation as public_escalation
from callscript.events import follow_up as public_follow_up
from callscript.privacy import PrivacyFilter
from callscript.prompt import MAX_INTERRUPTION_DEPTH, Prompt, build_prompt, outcome_at
from callscript.record import CallRecord, DispositionRef, PathEntry
from callscript.snapshot import ENCODER, build, load_state, new_fingerprint, parse, same_customer
from callscript.state import MAX_ID, CallState, Fingerprint, TurnMemo

__all__ = ["HOLD", "MAX_INTERRUPTION_DEPTH", "Call", "CallEvent", "Prompt", "call_observers",
           "check_context"]

log = logging.getLogger("callscript.call")
log.addFilter(PrivacyFilter())  # a logger's filter runs before any handler, a host's too

HOLD = "hold"  # the interruption Call.hold raises (the built-in hold sub-dialogue)

# Testing hooks (coverage, the pytest plugin): called with every call started or
# restored. Empty in production, so a call pays one falsy check.
call_observers: list[Callable[[Call], None]] = []

class Call:
    """One live call through a compiled flow. Create with ``Call.start`` or ``Call.restore``."""

    __slots__ = ("_appointments", "_base", "_clock", "_listeners", "_mark", "_prompt", "_state",
                 "_zone", "call_id", "context", "flow", "started_at")

    def __init__(self, flow: Flow, context: CallContext, *, call_id: str, started_at: datetime,
                 clock: Clock, listeners: Iterable[Listener], mark: Fingerprint,
                 state: CallState) -> None:
        self.flow = flow
        self.context = context
        self.call_id = call_id
        self.started_at = started_at
        self._clock = clock
        self._listeners = list(listeners)
        self._mark = mark
        self._state = state
        self._base = template_variables(context, {})  # context parts; captured added per turn
        self._prompt: Prompt | None = None
        self._zone = deployment_zone(context)
        self._appointments = appointments(flow)

    # -- creation --------------------------------------------------------------

    @classmethod
    def start(cls, flow: Flow, context: CallContext | Mapping[str, Any], *,
              clock: Clock = utc_now, ids: IdFactory = new_id,
              listeners: Iterable[Listener] = (), placeholders: bool = False) -> Call:
        """Start a call at revision 1. Raises ContextError or NotApplicableError before
        anything is said; ListenerError (with ``.call``) if a listener raised.

        ``placeholders=True`` lets unset fields the lines say show as the schema's
        placeholders (``***``), for a demo or a rehearsal; never for a real call."""
        given = check_call_args(flow, clock, listeners)
        if not callable(ids):
            raise ArgumentError("ids", "a callable returning a new call id", ids)
        checked = check_context(flow, context, placeholders=placeholders)
        variables = template_variables(checked, {})
        if flow.applies_when is not None and not flow.applies_when.evaluate(**variables):
            raise NotApplicableError(flow.id, flow.applies_when.source,
                                     flow.applies_reason or "its condition is false")
        call_id = ids()
        if not isinstance(call_id, str) or not 1 <= len(call_id) <= MAX_ID:
            raise ArgumentError("ids", f"a callable returning text of 1 to {MAX_ID} characters",
                                call_id)
        now = read(clock)
        first = transition.begin(flow, variables, now, {"flow": flow.id, "version": flow.version})
        call = cls(flow, checked, call_id=call_id, started_at=now, clock=clock, listeners=given,
                   mark=new_fingerprint(checked), state=first.state)
        log.debug("call %s started %s v%d", call_id, flow.id, flow.version)
        for observe in call_observers:
            observe(call)
        try:
            call._announce(first)
        except ListenerError as err:
            err.call = call
            raise
        return call

    @classmethod
    def restore(cls, flow: Flow, snapshot: str | bytes | Mapping[str, Any],
                context: CallContext | Mapping[str, Any], *, clock: Clock = utc_now,
                listeners: Iterable[Listener] = (), placeholders: bool = False) -> Call:
        """Continue a call from ``snapshot()`` or ``snapshot_json()``. Announces nothing and
        runs no entry effects. SnapshotError names what is wrong; a context whose customer or
        billing differs from the one the call started with is refused."""
        given = check_call_args(flow, clock, listeners)
        snap = parse(snapshot)
        checked = check_context(flow, context, placeholders=placeholders)
        if not same_customer(snap.context, checked):
            parts = " or ".join(flow.schema.per_customer)
            raise SnapshotError(f"the context's {parts} part is not the one the call "
                                "was started with (the snapshot's context fingerprint differs)")
        call = cls(flow, checked, call_id=snap.call_id, started_at=snap.started_at, clock=clock,
                   listeners=given, mark=snap.context, state=load_state(flow, snap))
        for observe in call_observers:
            observe(call)
        return call

    # -- reading ---------------------------------------------------------------

    @property
    def state(self) -> str:
        """The current step's id."""
        return self._state.step

    @property
    def revision(self) -> int:
        """1 for a new call, one more after every turn."""
        return self._state.revision

    @property
    def step(self) -> CompiledStep:
        return self.flow.steps[self._state.step]

    @property
    def ended(self) -> bool:
        return self.flow.steps[self._state.step].terminal

    @property
    def ended_at(self) -> datetime | None:
        return self._state.ended_at

    @property
    def updated_at(self) -> datetime:
        """The clock reading of the last turn (of the start, for a new call)."""
        return self._state.path[-1].at

    @property
    def captured(self) -> Mapping[str, Any]:
        """The values captured so far (read-only)."""
        return MappingProxyType(self._state.captured)

    @property
    def disposition(self) -> str | None:
        """The disposition id once ended; before that, the one an effect has set, if any."""
        step = self.flow.steps[self._state.step]
        return (outcome_at(self.flow, step, self._state.outcome) if step.terminal
                else self._state.outcome)

    @property
    def return_stack(self) -> tuple[str, ...]:
        """Steps the call returns to when the current sub-dialogues end, innermost last."""
        return self._state.stack

    @property
    def on_hold(self) -> bool:
        """Whether the customer is waiting: the current step has a time limit."""
        return self.flow.steps[self._state.step].time_limit is not None

    @property
    def prompt(self) -> Prompt:
        if self._prompt is None:
            state = self._state
            step = self.flow.steps[state.step]
            plain = step.static_notes is not None and not step.guarded  # nothing to render
            self._prompt = build_prompt(self.flow, state.step, state.path[-1].lines,
                                        len(state.stack), state.outcome,
                                        self._base if plain else
                                        transition.with_captured(self._base, state.captured),
                                        state.revision,
                                        transition.came_back(self.flow, state.path))
        return self._prompt

    def _offered(self) -> tuple[AnswerOption, ...] | None:
        """The answers the current prompt offers, if it has been built (guards evaluated)."""
        return None if self._prompt is None else self._prompt.answers

    def time_limit_seconds(self) -> int | None:
        """The current step's time limit, if it has one."""
        return transition.time_limit_seconds(self.flow, self._state, self._base)

    def time_up(self) -> bool:
        """Whether the call has stayed at a timed step (a hold) past its limit.

        Reads the clock once, without moving a clock that has ``peek`` (SteppingClock).
        """
        if self.flow.steps[self._state.step].time_limit is None:
            return False
        return transition.time_up(self.flow, self._state, self._base, peek(self._clock))

    # -- turns -----------------------------------------------------------------

    def answer(self, answer_id: str, captures: Mapping[str, Any] | None = None, *,
               revision: int | None = None, turn_id: str | None = None) -> Prompt:
        """Take the customer's answer. Refusals (AnswerRejected, CaptureRejected, CallEnded,
        StaleRevision, TurnIdReused, ArgumentError) change nothing."""
        if not isinstance(answer_id, str):
            raise ArgumentError("answer_id", "an answer id (text)", answer_id)
        given = check_captures(captures)
        check_turn_args(revision, turn_id)

        def compute(now: datetime, memo: tuple[str, str] | None) -> transition.Turn:
            return transition.answer(
                self.flow, self._state, self._base, self.call_id, answer_id, given, now,
                zone=self._zone, appointments=self._appointments,
                memo=memo, offered=self._offered())
        return self._take("answer", answer_id, given, revision, turn_id, compute)

    def interrupt(self, interruption_id: str, *, revision: int | None = None,
                  turn_id: str | None = None) -> Prompt:
        """Raise an interruption (customer busy, not the holder, …) from the current step."""
        if not isinstance(interruption_id, str):
            raise ArgumentError("interruption_id", "an interruption id (text)", interruption_id)
        check_turn_args(revision, turn_id)

        def compute(now: datetime, memo: tuple[str, str] | None) -> transition.Turn:
            return transition.interrupt(self.flow, self._state, self._base, self.call_id,
                                        interruption_id, now, memo)
        return self._take("interrupt", interruption_id, None, revision, turn_id, compute)

    def hold(self, *, revision: int | None = None, turn_id: str | None = None) -> Prompt:
        """Ask the customer to wait (请您稍等一下); the injected clock times the hold."""
        if HOLD not in self.flow.interruptions:
            raise AnswerRejected(self._state.step, None, list(self.flow.interruptions),
                                 f"flow {self.flow.id!r} has no hold")
        return self.interrupt(HOLD, revision=revision, turn_id=turn_id)

    def resume(self, captures: Mapping[str, Any] | None = None, *, revision: int | None = None,
               turn_id: str | None = None) -> Prompt:
        """End a wait: the step's first answer (back to the call), or, once the time limit
        has passed, its time-up answer. Reads the clock once, for both decisions."""
        given = check_captures(captures)
        check_turn_args(revision, turn_id)
        step = self.flow.steps[self._state.step]
        if step.time_limit is None:
            raise AnswerRejected(step.id, None, [], "the call is not on hold")

        def compute(now: datetime, memo: tuple[str, str] | None) -> transition.Turn:
            late = transition.time_up(self.flow, self._state, self._base, now)
            chosen = step.time_limit[1] if late and step.time_limit else next(iter(step.answers))
            return transition.answer(
                self.flow, self._state, self._base, self.call_id, chosen, given, now,
                zone=self._zone, appointments=self._appointments,
                memo=memo, offered=self._offered())
        return self._take("resume", "", given, revision, turn_id, compute)

    def _take(self, kind: str, name: str, captures: Mapping[Any, Any] | None,
              revision: int | None, turn_id: str | None,
              compute: Callable[[datetime, tuple[str, str] | None], transition.Turn]) -> Prompt:
        memo = None
        if turn_id is not None:
            digest = transition.input_digest(kind, name, captures)
            for seen in self._state.turns:
                if seen.id == turn_id:
                    if seen.digest != digest:
                        raise TurnIdReused(self._state.revision)
                    return self._replayed(seen)
            memo = (turn_id, digest)
        if revision is not None and revision != self._state.revision:
            raise StaleRevision(revision, self._state.revision)
        taken = compute(read(self._clock), memo)
        self._state, self._prompt = taken.state, None  # the commit: one swap, nothing before
        log.debug("call %s: revision %d at %s", self.call_id, taken.state.revision,
                  taken.state.step)
        return self._announce(taken)

    def _replayed(self, memo: TurnMemo) -> Prompt:
        """The prompt a remembered turn returned, rebuilt from the path entry it entered."""
        state = self._state
        if memo.entry == len(state.path) - 1:
            return self.prompt
        captured: dict[str, Any] = {}
        for entry in state.path[:memo.entry]:
            captured.update({k: from_json(self.flow.captures[k], v)
                             for k, v in entry.captures.items()})
        entry = state.path[memo.entry]
        return build_prompt(self.flow, entry.step, entry.lines, memo.depth, None,
                            transition.with_captured(self._base, captured), memo.revision)

    def _announce(self, taken: transition.Turn) -> Prompt:
        prompt = self.prompt
        if not self._listeners or not taken.drafts:
            return prompt
        state = taken.state
        first = state.events - len(taken.drafts) + 1
        secrets = (*personal_values(self.context),
                   *(str(v) for k, v in state.captured.items() if self.flow.captures[k].sensitive))
        events = [CallEvent(kind, self.call_id, first + i, state.revision, taken.now,  # type: ignore[arg-type]
                            step, public_detail(detail), sensitive, secrets)
                  for i, (kind, step, detail, sensitive) in enumerate(taken.drafts)]
        failures = deliver(list(self._listeners), events)
        if failures:
            raise ListenerError(failures, state.revision, prompt)
        return prompt

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every CallEvent from the next turn on."""
        if not callable(listener):
            raise ArgumentError("listener", "a callable taking a CallEvent", listener)
        self._listeners.append(listener)

    # -- persistence -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The call's state as JSON-compatible data; store it between requests."""
        data: dict[str, Any] = msgspec.json.decode(self.snapshot_json())
        return data  # exactly the JSON data: datetimes as ISO text, arrays as lists

    def snapshot_json(self) -> bytes:
        """The snapshot as UTF-8 JSON bytes (what ``snapshot()`` holds, encoded directly)."""
        return ENCODER.encode(build(self.flow, self.call_id, self.started_at, self._mark,
                                    self._state))

    def record(self) -> CallRecord:
        """The call's record so far (complete once the call has ended)."""
        state = self._state
        step = self.flow.steps[state.step]
        agent_id, customer_ref = record_identity(self.context)
        captured: dict[str, Any] = {}
        path = []
        for e in state.path:
            captured.update(e.captures)
            path.append(PathEntry.model_construct(
                step=e.step, lines=list(e.lines), at=e.at, answer=e.answer,
                interruption=e.interruption, captures=dict(e.captures)))
        return CallRecord.model_construct(  # built from validated state: no second validation
            call_id=self.call_id, flow_id=self.flow.id, flow_version=self.flow.version,
            agent_id=agent_id, customer_ref=customer_ref,
            started_at=self.started_at, ended_at=state.ended_at,
            disposition=self._disposition_ref(),
            path=path, captures=captured,
            sensitive_fields=sorted(n for n, c in self.flow.captures.items() if c.sensitive),
            follow_ups=[public_follow_up(f) for f in state.follow_ups],
            complaints=[public_complaint(c) for c in state.complaints],
            escalations=[public_escalation(e) for e in state.escalations],
            waited_for_customer_hangup=step.customer_hangs_up_first,
        )

    def _disposition_ref(self) -> DispositionRef | None:
        found = self.disposition
        if found is None or not self.ended:
            return None
        declared = self.flow.dispositions[found]
        return DispositionRef(id=declared.id, code=declared.code, label=declared.label)

    def __repr__(self) -> str:
        return (f"<Call {self.call_id} {self.flow.id} v{self.flow.version} at "
                f"{self._state.step!r} revision {self._state.revision}"
                f"{' (ended)' if self.ended else ''}>")
