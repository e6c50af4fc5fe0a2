"""What the agent sees at a step: lines, notes, the answers and interruptions offered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callscript.compile import AnswerOption, CompiledStep, Flow
from callscript.privacy import mask_digit_runs

MAX_INTERRUPTION_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the agent sees now, and the revision of the call it belongs to."""

    step: str
    title: str  # the step's title (its id when the flow gives none)
    lines: tuple[str, ...]
    notes: tuple[str, ...]
    answers: tuple[AnswerOption, ...]
    interruptions: tuple[AnswerOption, ...]
    terminal: bool
    disposition: str | None  # the id, on a terminal step
    on_hold: bool
    revision: int = 0
    returned: bool = False  # the call came back here after an interruption (views: 回到)

    def __repr__(self) -> str:  # lines may say the customer's phone number: mask it here
        lines = [mask_digit_runs(line) for line in self.lines]
        return (f"Prompt(step={self.step!r}, lines={lines!r}, "
                f"answers={[a.id for a in self.answers]!r}, terminal={self.terminal}, "
                f"revision={self.revision})")


def outcome_at(flow: Flow, step: CompiledStep, set_by_effect: str | None) -> str | None:
    """A disposition effect refines a refinable end (completed); any other end wins."""
    if (step.disposition is not None and set_by_effect is not None
            and flow.dispositions[step.disposition].refinable):
        return set_by_effect
    return step.disposition


def offered_answers(step: CompiledStep, variables: Mapping[str, Any]) -> tuple[AnswerOption, ...]:
    if not step.guarded:
        return step.options
    return tuple(o for o in step.options if (guard := step.answers[o.id].guard) is None
                 or guard.evaluate(**variables))


def offered_interruptions(flow: Flow, step: CompiledStep, depth: int) -> tuple[AnswerOption, ...]:
    if step.interruptible and not step.terminal and depth < MAX_INTERRUPTION_DEPTH:
        return flow.interruption_options
    return ()


def build_prompt(flow: Flow, step_id: str, lines: tuple[str, ...], depth: int,
                 outcome: str | None, variables: Mapping[str, Any], revision: int,
                 returned: bool = False) -> Prompt:
    step = flow.steps[step_id]
    return Prompt(step.id, step.title, lines, step.render_notes(variables),
                  offered_answers(step, variables), offered_interruptions(flow, step, depth),
                  step.terminal, outcome_at(flow, step, outcome), step.time_limit is not None,
                  revision, returned)
