"""A flow laid out for paper: numbered sections (§n), answers pointing at sections.

Without a customer the lines print as the seed prints them (***, XX, XXXXXXX),
and a line whose wording depends on the customer prints every variant. With a
customer's context it is their call sheet, personal data masked unless asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from callscript.compile import Flow, template_variables
from callscript.context import SENSITIVE_CONTEXT_FIELDS, CallContext, placeholder_context
from callscript.privacy import mask
from callscript.runtime import check_context
from callscript.spec import RETURN

PLACEHOLDER_MARKS = {"billing.suspended_since_month": "XX", "billing.idle_since_month": "XX"}


@dataclass(frozen=True)
class PrintedAnswer:
    label: str
    id: str
    target: str  # "§3", or "返回" for the end of a sub-dialogue
    back_to: str | None  # "§5" when the answer calls a sub-dialogue


@dataclass(frozen=True)
class Section:
    number: int
    step: str
    notes: tuple[str, ...]
    lines: tuple[tuple[str, ...], ...]  # each line: its variants (one unless the seed has two)
    answers: tuple[PrintedAnswer, ...]
    outcome: str | None


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

    def section_of(self, step: str) -> str:
        return next(f"§{s.number}" for s in self.sections if s.step == step)


def _masked(context: CallContext) -> CallContext:
    """The context with personal data masked, for a printout that does not need it."""
    parts: dict[str, Any] = {}
    for path in SENSITIVE_CONTEXT_FIELDS:
        part, name = path.split(".")
        value = getattr(getattr(context, part), name)
        if value is not None:
            parts.setdefault(part, {})[name] = mask(value)
    updated = {part: getattr(context, part).model_copy(update=fields)
               for part, fields in parts.items()}
    return context.model_copy(update=updated)


def _variants(flow: Flow) -> list[CallContext]:
    """The seed's placeholders, plus one context per optional field a line may branch on."""
    base = placeholder_context()
    out = [base]
    for path, mark in PLACEHOLDER_MARKS.items():
        if path in flow.optional_context:
            part, name = path.split(".")
            others = {p.split(".")[1]: None for p in PLACEHOLDER_MARKS if p != path}
            values = dict(getattr(base, part)) | others | {name: mark}
            model = type(getattr(base, part)).model_construct(**values)
            out.append(base.model_copy(update={part: model}))
    return out


def build_script(flow: Flow, context: CallContext | Mapping[str, Any] | None = None,
                 show_personal_data: bool = False) -> Script:
    if context is None:
        contexts = _variants(flow)
        customer = None
    else:
        checked = check_context(flow, context)
        contexts = [checked if show_personal_data else _masked(checked)]
        customer = f"{checked.customer.name or ''}{checked.customer.title or ''}" or None
    numbers = {sid: n for n, sid in enumerate(flow.steps, 1)}
    variables = [template_variables(c, {}) for c in contexts]
    sections = []
    for sid, step in flow.steps.items():
        lines = tuple(_distinct(line.render(v) for v in variables) for line in step.lines)
        notes = tuple(_distinct(note.render(v) for v in variables)[0] for note in step.notes)
        answers = tuple(
            PrintedAnswer(a.label, a.id, "返回" if a.target == RETURN else f"§{numbers[a.target]}",
                          f"§{numbers[a.return_to]}" if a.return_to else None)
            for a in step.answers.values())
        sections.append(Section(numbers[sid], sid, notes, lines, answers,
                                step.outcome.value if step.outcome else None))
    interruptions = tuple((i.label, f"§{numbers[i.start]}") for i in flow.interruptions.values())
    outcomes = _distinct(s.outcome for s in sections if s.outcome is not None)
    applies = None
    if flow.applies_when is not None:
        applies = flow.applies_when.source
        if flow.applies_reason:
            applies += f" (it does not apply when {flow.applies_reason})"
    return Script(flow, flow.title, flow.purpose, applies, customer, tuple(sections),
                  interruptions, outcomes)


def _distinct(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))
