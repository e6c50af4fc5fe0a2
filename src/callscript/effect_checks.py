"""What the compiler refuses in a step's effects and ending: each problem with where it is.

Undeclared dispositions, follow-ups due at or from something that is not a date, and
complaints quoting a capture the flow does not take.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from callscript.context import ContextSchema
from callscript.dispositions import Disposition
from callscript.loader import Loc
from callscript.spec import CaptureSpec, EffectSpec, StepSpec


def _disposition(loc: Loc, disposition: str | None,
                 dispositions: Mapping[str, Disposition]) -> Iterator[tuple[Loc, str]]:
    if disposition is not None and disposition not in dispositions:
        yield loc, (f"disposition {disposition!r} is not declared in the library's "
                    f"dispositions.yaml; declared: {', '.join(sorted(dispositions))}")


def effect_problems(step_id: str, step: StepSpec, captures: Mapping[str, CaptureSpec],
                    declared: set[str], schema: ContextSchema,
                    dispositions: Mapping[str, Disposition]) -> Iterator[tuple[Loc, str]]:
    yield from _disposition(("steps", step_id, "disposition"), step.disposition, dispositions)
    located: list[tuple[Loc, EffectSpec]] = [
        (("steps", step_id, "effects", i), e) for i, e in enumerate(step.effects)]
    for j, answer in enumerate(step.answers):
        located += [(("steps", step_id, "answers", j, "effects", i), e)
                    for i, e in enumerate(answer.effects)]
    for loc, effect in located:
        yield from _disposition((*loc, "disposition"), effect.disposition, dispositions)
        due = effect.follow_up.due if effect.follow_up else None
        source = due.from_context if due else None
        if source is not None and (source not in schema.fields
                                   or schema.fields[source].type != "date"):
            yield ((*loc, "follow_up", "due", "from_context"),
                   f"from_context names {source!r}, which is not a date field of the context")
        elif source is not None and source not in declared:
            yield ((*loc, "follow_up", "due", "from_context"),
                   f"from_context reads {source!r}, which the flow's context does not declare "
                   "(add it to context.optional)")
        if due is not None and due.at_capture:
            cap = captures.get(due.at_capture)
            if cap is None or cap.type not in ("date", "datetime"):
                yield ((*loc, "follow_up", "due", "at_capture"),
                       f"at_capture names {due.at_capture!r}, which is not a date or datetime "
                       "capture")
        text_capture = effect.complaint.text_capture if effect.complaint else None
        if text_capture and text_capture not in captures:
            yield (*loc, "complaint", "text_capture"), f"unknown capture {text_capture!r}"
