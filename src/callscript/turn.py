"""The pure transition: (flow, state, input, one clock reading) -> the next state and its events.

Nothing here changes a call. A turn either raises a callscript error (and the
call stays as it was) or returns a ``Turn``: the whole next state (step, stack,
captures, path entry, effects, revision, turn id) and the events to announce.
``Call`` swaps the state in with one assignment and only then tells listeners.

Destinations come from the flow's ``transitions`` machine: it is the table of
which trigger leads where; a ``return`` answer is an internal transition there,
and goes back to the step on top of the stack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import msgspec

from callscript.captures import to_json, validate_captures
from callscript.compile import INTERRUPT_PREFIX, AnswerOption, Flow
from callscript.effects import Changes, Draft, apply_effects
from callscript.errors import AnswerRejected, CallEnded, CaptureRejected
from callscript.prompt import offered_answers, offered_interruptions, outcome_at
from callscript.spec import RETURN
from callscript.state import MAX_HISTORY, MAX_STACK, MAX_TURN_IDS, CallState, Entry, TurnMemo

_NONE: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Turn:
    state: CallState
    drafts: tuple[Draft, ...]
    now: datetime


def destination(flow: Flow, source: str, trigger: str) -> str | None:
    """Where ``trigger`` leads from ``source`` in the flow's machine (None: stays, a return)."""
    event = flow.machine.events.get(trigger)
    found = event.transitions.get(source) if event is not None else None
    if not found:
        raise AnswerRejected(source, None, [], f"the flow has no transition {trigger!r} from "
                                               f"step {source!r}")
    dest: str | None = found[0].dest
    return dest


def input_digest(kind: str, name: str, captures: Mapping[Any, Any] | None) -> str:
    """A digest of a turn's input, to tell a retry from another turn under the same id."""
    values = {str(k): to_json(v) for k, v in (captures or {}).items()}
    try:
        data = msgspec.json.encode([kind, name, values], order="sorted", enc_hook=repr)
    except (TypeError, ValueError, UnicodeEncodeError):
        data = repr([kind, name, sorted(values.items(), key=str)]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def with_captured(variables: Mapping[str, Any], captured: Mapping[str, Any]) -> dict[str, Any]:
    return {**variables, "captured": captured}


def begin(flow: Flow, variables: Mapping[str, Any], now: datetime, flow_detail: Any) -> Turn:
    """The state of a new call at its start step, revision 1."""
    step = flow.steps[flow.start]
    empty = CallState(revision=1, step=step.id, stack=(), outcome=None, ended_at=None, path=(),
                      follow_ups=(), complaints=(), escalations=(), turns=(), events=0,
                      captured={})
    changes = Changes.of(empty)
    changes.drafts.append(("started", step.id, flow_detail, False))
    changes.drafts.append(("step_entered", step.id, step.id, False))
    apply_effects(changes, step.effects, step.id, now, empty.captured, variables)
    if step.terminal:
        changes.drafts.append(("ended", step.id, outcome_at(flow, step, changes.outcome), False))
    entry = Entry(step=step.id, lines=step.render(with_captured(variables, {})), at=now)
    state = CallState(
        revision=1, step=step.id, stack=(), outcome=changes.outcome,
        ended_at=now if step.terminal else None, path=(entry,),
        follow_ups=tuple(changes.follow_ups), complaints=tuple(changes.complaints),
        escalations=tuple(changes.escalations), turns=(), events=len(changes.drafts), captured={})
    return Turn(state, tuple(changes.drafts), now)


def _live(flow: Flow, state: CallState, call_id: str) -> None:
    step = flow.steps[state.step]
    if step.terminal:
        raise CallEnded(f"call {call_id} has ended at step {step.id!r}")
    if len(state.path) >= MAX_HISTORY:
        raise AnswerRejected(step.id, None, [], f"the call has reached its limit of "
                                                f"{MAX_HISTORY} steps")


def time_limit_seconds(flow: Flow, state: CallState, variables: Mapping[str, Any]) -> int | None:
    limit = flow.steps[state.step].time_limit
    if limit is None:
        return None
    return int(limit[0].evaluate(**with_captured(variables, state.captured)))


def time_up(flow: Flow, state: CallState, variables: Mapping[str, Any], now: datetime) -> bool:
    seconds = time_limit_seconds(flow, state, variables)
    return seconds is not None and now - state.path[-1].at > timedelta(seconds=seconds)


def answer(flow: Flow, state: CallState, variables: Mapping[str, Any], call_id: str,
           answer_id: str, captures: Mapping[Any, Any] | None, now: datetime, *,
           zone: tzinfo, appointments: Collection[str],
           memo: tuple[str, str] | None = None,
           offered: tuple[AnswerOption, ...] | None = None) -> Turn:
    """Take an answer at the current step. Raises AnswerRejected, CaptureRejected or CallEnded.

    ``offered``: the answers the prompt of ``state`` offers, when the caller has them
    (its guards are then not evaluated again)."""
    _live(flow, state, call_id)
    step = flow.steps[state.step]
    if offered is None:
        current = with_captured(variables, state.captured) if step.guarded else variables
        offered = offered_answers(step, current)
    allowed = [a.id for a in offered]
    if answer_id not in allowed:
        known = answer_id if answer_id in step.answers else None
        raise AnswerRejected(step.id, known, allowed)
    chosen = step.answers[answer_id]
    if (step.time_limit is not None and answer_id != step.time_limit[1]
            and time_up(flow, state, variables, now)):
        raise AnswerRejected(step.id, answer_id, [step.time_limit[1]], reason=(
            f"the customer has waited longer than {time_limit_seconds(flow, state, variables)} "
            f"seconds at step {step.id!r}"))
    try:
        values = validate_captures(chosen.captures, captures or _NONE, now=now, zone=zone,
                                   appointments=appointments)
    except ValueError as err:
        raise CaptureRejected(step.id, answer_id, [c.name for c in chosen.captures],
                              err.args[0]) from None
    stack = state.stack
    target = destination(flow, step.id, answer_id)
    if target is None:  # a `return`: back to the step that called, without its entry effects
        if not stack:
            raise AnswerRejected(step.id, answer_id, allowed, "there is no step to return to")
        dest, stack, entering = stack[-1], stack[:-1], False
    else:
        dest, entering = target, True
    if chosen.return_to is not None:
        stack = (*stack, chosen.return_to)
    if len(stack) > MAX_STACK:
        raise AnswerRejected(step.id, answer_id, allowed, "sub-dialogues nest too deeply here")
    captured = {**state.captured, **values} if values else state.captured
    changes = Changes.of(state)
    for name, value in values.items():
        changes.drafts.append(("captured", step.id, (name, value), flow.captures[name].sensitive))
    answered = msgspec.structs.replace(
        state.path[-1], answer=answer_id,
        captures={name: to_json(value) for name, value in values.items()} if values else {})
    return _enter(flow, state, changes, dest, stack, captured, variables, now, answered,
                  chosen.effects if chosen.effects else (), entering, memo)


def back_from_interruption(flow: Flow, path: tuple[Entry, ...]) -> bool:
    """Whether the frame a return pops was pushed by an interruption: the call comes back
    to a step it left (say_on_return), not on to an answer's ``return_to`` (a first visit)."""
    pending = 0  # returns met walking back: each closes a later frame
    for entry in reversed(path[:-1]):
        if entry.interruption is not None:
            pushed = True
        elif entry.answer is not None:
            step = flow.steps.get(entry.step)
            taken = step.answers.get(entry.answer) if step is not None else None
            if taken is None:
                continue
            if taken.target == RETURN:
                pending += 1
                continue
            pushed = taken.return_to is not None
        else:
            continue
        if pushed:
            if pending == 0:
                return entry.interruption is not None
            pending -= 1
    return True


def came_back(flow: Flow, path: tuple[Entry, ...]) -> bool:
    """Whether the last turn brought the call back to a step it left for an interruption."""
    if len(path) < 2 or path[-2].answer is None:
        return False
    left = flow.steps.get(path[-2].step)
    taken = left.answers.get(path[-2].answer) if left is not None else None
    return (taken is not None and taken.target == RETURN
            and back_from_interruption(flow, path[:-1]))


def interrupt(flow: Flow, state: CallState, variables: Mapping[str, Any], call_id: str,
              interruption_id: str, now: datetime, memo: tuple[str, str] | None = None) -> Turn:
    """Raise an interruption from the current step; the call returns here when it ends."""
    _live(flow, state, call_id)
    step = flow.steps[state.step]
    allowed = [i.id for i in offered_interruptions(flow, step, len(state.stack))]
    if interruption_id not in allowed:
        known = interruption_id in flow.interruptions
        raise AnswerRejected(step.id, interruption_id if known else None, allowed,
                             f"interruption {interruption_id!r} cannot be raised at step "
                             f"{step.id!r}" if known else
                             f"the interruption given cannot be raised at step {step.id!r}")
    dest = destination(flow, step.id, INTERRUPT_PREFIX + interruption_id)
    assert dest is not None  # an interruption always enters its sub-dialogue
    answered = msgspec.structs.replace(state.path[-1], interruption=interruption_id)
    return _enter(flow, state, Changes.of(state), dest, (*state.stack, step.id), state.captured,
                  variables, now, answered, (), True, memo)


def _enter(flow: Flow, state: CallState, changes: Changes, dest: str, stack: tuple[str, ...],
           captured: dict[str, Any], variables: Mapping[str, Any], now: datetime, answered: Entry,
           answer_effects: Any, entering: bool, memo: tuple[str, str] | None) -> Turn:
    step = flow.steps[dest]
    source = state.step
    # Render first: a template error must leave the call as it was (nothing is applied yet).
    if not entering and step.return_lines and back_from_interruption(flow, state.path):
        # back at a step the call left for an interruption: the short re-ask
        lines = step.render_return(with_captured(variables, captured))
    else:
        lines = step.static_lines if step.static_lines is not None else step.render(
            with_captured(variables, captured))
    changes.drafts.append(("step_entered", dest, dest, False))
    if entering and step.effects:
        apply_effects(changes, step.effects, dest, now, captured, variables)
    if answer_effects:
        apply_effects(changes, answer_effects, source, now, captured, variables)
    if step.terminal:
        changes.drafts.append(("ended", dest, outcome_at(flow, step, changes.outcome), False))
    revision = state.revision + 1
    path = (*state.path[:-1], answered, Entry(step=dest, lines=lines, at=now))
    turns = state.turns
    if memo is not None:
        kept = turns[-(MAX_TURN_IDS - 1):] if len(turns) >= MAX_TURN_IDS else turns
        turns = (*kept, TurnMemo(id=memo[0], digest=memo[1], revision=revision,
                                 entry=len(path) - 1, depth=len(stack)))
    return Turn(CallState(
        revision=revision, step=dest, stack=stack, outcome=changes.outcome,
        ended_at=now if step.terminal else None, path=path,
        follow_ups=tuple(changes.follow_ups), complaints=tuple(changes.complaints),
        escalations=tuple(changes.escalations), turns=turns,
        events=state.events + len(changes.drafts), captured=captured,
    ), tuple(changes.drafts), now)
