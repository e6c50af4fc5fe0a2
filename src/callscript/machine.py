"""One transitions machine per flow: the transition table calls are moved through.

Calls are detached models passed to ``Event.trigger``; a call never builds a
machine and is never ``add_model``-ed onto a shared one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from transitions import Machine

from callscript.compiled import INTERRUPT_PREFIX, CompiledStep, Interruption
from callscript.spec import RETURN

# transitions logs every transition at INFO: a host's INFO logs are not ours to fill
logging.getLogger("transitions").setLevel(logging.WARNING)


def build_machine(start: str, steps: Mapping[str, CompiledStep],
                  interruptions: Mapping[str, Interruption]) -> Machine:
    """One machine per flow: the table of which trigger leads where.

    It has no callbacks: a turn (callscript.turn) looks its destination up here and
    computes every effect itself, so nothing can run half-way through a turn.
    """
    machine = Machine(model=None, states=list(steps), initial=start, auto_transitions=False,
                      send_event=True, ignore_invalid_triggers=False)
    for sid, step in steps.items():
        for answer in step.answers.values():
            dest = None if answer.target == RETURN else answer.target  # None: internal
            # No conditions: a guard decides whether an answer is offered, and the turn
            # checks that before it computes anything.
            machine.add_transition(answer.id, sid, dest)
        if step.interruptible and not step.terminal:
            for interruption in interruptions.values():
                machine.add_transition(INTERRUPT_PREFIX + interruption.id, sid, interruption.start)
    return machine
