"""One transitions machine per flow: the transition table calls are moved through.

Calls are detached models passed to ``Event.trigger``; a call never builds a
machine and is never ``add_model``-ed onto a shared one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from transitions import Machine

from callscript.compiled import INTERRUPT_PREFIX, CompiledAnswer, CompiledStep, Interruption
from callscript.spec import RETURN

# transitions logs every transition at INFO: a host's INFO logs are not ours to fill
logging.getLogger("transitions").setLevel(logging.WARNING)


# The runtime passes itself as the model; these callbacks are the only code that
# transitions calls, and they stay thin: the runtime owns every side effect.
def _enter_callback(step: CompiledStep) -> Callable[[Any], None]:
    def enter(event: Any) -> None:
        event.model.apply_effects(step.effects, step.id)
    return enter


def _after_callback(answer: CompiledAnswer, step: str) -> Callable[[Any], None]:
    def after(event: Any) -> None:
        event.model.apply_effects(answer.effects, step)
    return after


def build_machine(start: str, steps: Mapping[str, CompiledStep],
                  interruptions: Mapping[str, Interruption]) -> Machine:
    """One machine per flow; calls are detached models passed to Event.trigger."""
    states = [
        {"name": sid, "on_enter": [_enter_callback(step)] if step.effects else []}
        for sid, step in steps.items()
    ]
    machine = Machine(model=None, states=states, initial=start, auto_transitions=False,
                      send_event=True, ignore_invalid_triggers=False)
    for sid, step in steps.items():
        for answer in step.answers.values():
            dest = None if answer.target == RETURN else answer.target  # None: internal
            # No conditions: a guard decides whether an answer is offered, and the runtime
            # checks that before it changes anything; evaluating it again here, after the
            # answer's captures are merged, could refuse a move half made.
            after: list[str | Callable[..., bool | None]] = []
            if answer.effects:
                after.append(_after_callback(answer, sid))
            machine.add_transition(answer.id, sid, dest, after=after)
        if step.interruptible and not step.terminal:
            for interruption in interruptions.values():
                machine.add_transition(INTERRUPT_PREFIX + interruption.id, sid, interruption.start)
    return machine


