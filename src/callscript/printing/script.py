"""A flow laid out for paper: numbered sections (§n), answers pointing at sections.

Without a customer the lines print as the seed prints them (***, XX, XXXXXXX),
and a line whose wording depends on the customer prints every variant. With a
customer's context it is their call sheet, personal data masked unless asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from callscript.compile import Flow, template_variables
from callscript.printing.order import (
    call_order,
    condition_words,
    distinct,
        group_of,
    in_chinese,
    step_title,
    subdialogue_titles,
)
from callscript.printing.placeholders import (
    generic_variables,
    safe_render,
    shown_captures,
    shown_context,
)
from callscript.privacy import mask
from callscript.runtime import check_context
from callscript.spec import RETURN


@dataclass(frozen=True)
class PrintedAnswer:
    label: str
    id: str
    target: str  # "§3", or "返回" for the end of a sub-dialogue
    back_to: str | None  # "§5" when the answer calls a sub-dialogue
    condition: str | None  # when the answer is offered, in words (the guard's label)
    records: tuple[str, ...] = ()  # the labels of what the agent records with this answer


@dataclass(frozen=True)
class Section:
    number: int
    step: str
    title: str
    notes: tuple[str, ...]
    lines: tuple[tuple[str, ...], ...]  # each line: its variants (one unless the seed has two)
    answers: tuple[PrintedAnswer, ...]
    outcome: str | None  # the disposition's label, on a terminal step
    part: str = ""  # the sub-dialogue's id; "" for the flow's own steps
    part_title: str = ""  # the sub-dialogue's title, on the first section of each part


@dataclass(frozen=True)
class Script:
    flow: Flow
    title: str
    purpose: str
    applies: str | None
    customer: str | None  # "王先生" on a call sheet; None for the generic script
    sections: tuple[Section, ...]
    interruptions: tuple[tuple[str, str], ...]  # (label, "§n")
    outcomes: tuple[str, ...]
    applies_otherwise: str | None = None  # why the flow does not apply, when it says so

    def section_of(self, step: str) -> str:
        return next(f"§{s.number}" for s in self.sections if s.step == step)


def _masked(context: BaseModel, sensitive: Iterable[str]) -> BaseModel:
    """The context with personal data masked, for a printout that does not need it."""
    parts: dict[str, Any] = {}
    for path in sensitive:
        part, name = path.split(".", 1)
        value = getattr(getattr(context, part), name)
        if value is not None:
            parts.setdefault(part, {})[name] = mask(value)
    updated = {part: getattr(context, part).model_copy(update=fields)
               for part, fields in parts.items()}
    return context.model_copy(update=updated)


def build_script(flow: Flow, context: BaseModel | Mapping[str, Any] | None = None,
                 show_personal_data: bool = False, labels: bool = False,
                 generic: bool = False) -> Script:
    """The flow for paper; ``labels`` prints unset values as 【label】 instead of the seed's ***.

    With no context, or ``generic`` (the context then holds only what every call shares,
    such as the deployment's hotline), it is the generic script; else a customer's call sheet.
    """
    if context is None or generic:
        base = None if context is None else flow.schema.validate(flow.id, context)
        variables = generic_variables(flow, labels, base)
        customer = None
    else:
        checked = check_context(flow, context, placeholders=True)
        shown = checked if show_personal_data else _masked(checked, flow.schema.sensitive)
        variables = [template_variables(shown_context(flow.schema, labels=labels, base=shown),
                                        shown_captures(flow))]
        customer = _customer_words(checked)
    order = call_order(flow)
    numbers = {sid: n for n, sid in enumerate(order, 1)}
    titles = subdialogue_titles(flow)
    sections: list[Section] = []
    for sid in order:
        step = flow.steps[sid]
        lines = tuple(distinct(safe_render(line, v) for v in variables) for line in step.lines)
        notes = tuple(distinct(safe_render(note, v) for v in variables)[0] for note in step.notes)
        answers = tuple(
            PrintedAnswer(a.label, a.id, "返回" if a.target == RETURN else f"§{numbers[a.target]}",
                          f"§{numbers[a.return_to]}" if a.return_to else None,
                          condition_words(flow, a.guard) if a.guard else None,
                          distinct(c.label for c in a.captures))
            for a in step.answers.values())
        ended = flow.dispositions[step.disposition].label if step.disposition else None
        part = group_of(sid)
        first = not sections or sections[-1].part != part
        part_title = (titles.get(part) or part) if part and first else ""
        sections.append(Section(numbers[sid], sid, step_title(step), notes, lines, answers,
                                ended, part, part_title))
    interruptions = tuple((i.label, f"§{numbers[i.start]}") for i in flow.interruptions.values())
    outcomes = distinct(s.outcome for s in sections if s.outcome is not None)
    applies = None
    if flow.applies_when is not None:
        applies = condition_words(flow, flow.applies_when)
    otherwise = flow.applies_reason if in_chinese(flow.applies_reason) else None
    # the purpose is for the agent only when written in the agent's language
    purpose = flow.purpose if in_chinese(flow.purpose) else ""
    return Script(flow, flow.title, purpose, applies, customer, tuple(sections),
                  interruptions, outcomes, otherwise)


def _customer_words(context: BaseModel) -> str | None:
    """How a call sheet names the customer: the first part's name and title, if it has them."""
    first = next(iter(type(context).model_fields), None)
    part = getattr(context, first) if first else None
    words = f"{getattr(part, 'name', None) or ''}{getattr(part, 'title', None) or ''}"
    return words or None
