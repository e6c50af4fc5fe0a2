"""Sample context values from a library's schema: typed, seeded, within each field's limits.

Used by random walks, ``check`` (every template rendered with typed values),
the rehearsal's ``--sample`` and the demo. A field's ``example`` is the
plausible value; ``fuzz=True`` also tries values that must stay data (``{{ 7*7 }}``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from callscript.compiled import Flow, template_variables
from callscript.context import ContextSchema, FieldSpec

_FUZZ_TEXT = ("{{ 7*7 }}", "<b>张</b>", "王")
_CJK_TEXT = ("示例", "王", "李", "欧阳", "文三路")


def _bounded(spec: FieldSpec, low: Decimal, high: Decimal) -> tuple[Decimal, Decimal]:
    return (spec.min if spec.min is not None else low, spec.max if spec.max is not None else high)


def sample_value(spec: FieldSpec, rng: random.Random, *, fuzz: bool = False) -> Any:
    """A valid value of ``spec``; its example most of the time when it has one."""
    if spec.example is not None and (not fuzz or rng.random() < 0.5):
        return spec.example
    match spec.type:
        case "text":
            text = rng.choice(_FUZZ_TEXT if fuzz else _CJK_TEXT)
            return text[: spec.max_length] if spec.max_length else text
        case "choice":
            return rng.choice(spec.choices or [""])
        case "phone":
            return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        case "integer":
            low, high = _bounded(spec, Decimal(0), Decimal(1000))
            return rng.randint(int(low), int(high))
        case "money" | "decimal":
            low, high = _bounded(spec, Decimal(0), Decimal(10000))
            cents = rng.randint(int(low * 100), int(high * 100))
            return Decimal(cents) / 100
        case "month":
            return rng.randint(1, 12)
        case "date":
            return date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        case "bool":
            return rng.random() < 0.5
    raise AssertionError(spec.type)


def wanted_fields(flow: Flow) -> list[str]:
    """Fields a call of ``flow`` must have: required ones, and spoken ones with placeholders."""
    schema = flow.schema
    spoken = {p for p in flow.spoken_context if p in schema.implicit
              and schema.fields[p].placeholder is not None and schema.fields[p].default is None}
    return [p for p in schema.fields if p in flow.required_context or p in spoken]


def context_values(schema: ContextSchema, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {part: {} for part in schema.parts}
    for path, value in fields.items():
        part, name = path.split(".", 1)
        values[part][name] = value
    return values


def sample_context(flow: Flow, rng: random.Random, tries: int = 200, *,
                   fuzz: bool = True, optional: Iterable[str] | None = None) -> BaseModel:
    """A valid context for ``flow``: what it needs always, other fields half the time.

    Amounts are drawn equal a fifth of the time: the boundary of a "fell" guard.
    """
    schema = flow.schema
    needed = wanted_fields(flow)
    others = list(optional) if optional is not None else [
        p for p in schema.fields if p not in needed and schema.fields[p].default is None]
    for _ in range(tries):
        fields = {p: sample_value(schema.fields[p], rng, fuzz=fuzz) for p in needed}
        fields |= {p: sample_value(schema.fields[p], rng, fuzz=fuzz) for p in others
                   if rng.random() < 0.5}
        money = [p for p in fields if schema.fields[p].type == "money" and schema.fields[p].max is None]
        if len(money) > 1 and rng.random() < 0.2:
            fields |= {p: fields[money[0]] for p in money}
        context = schema.model.model_validate(context_values(schema, fields))
        if flow.applies_when is None or flow.applies_when.evaluate(
                **template_variables(context, {})):
            return context
    raise ValueError(f"no sampled context satisfies {flow.id}'s applies_when "
                     f"({flow.applies_when.source if flow.applies_when else ''})")
