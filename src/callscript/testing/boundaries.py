"""Guard boundaries: the comparisons of numbers, amounts and dates in a flow's guards.

A guard such as ``billing.this_month < billing.last_month`` (or ``prospect.previous_contacts
>= 1``) changes its verdict where both sides are equal. Off-by-one mistakes live
there, so the hypothesis strategies draw contexts just below, at and just above it
(``contexts(flow)``), and ``reached`` tells which of the three a set of contexts
(a test run's) took.

Only comparisons of context fields (integer, money, decimal, month, date) with
each other or with a number are boundaries; guards over captured values are the
answers' business and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from callscript.compiled import Flow, Guard

SIDES = ("below", "at", "above")
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NUMERIC = ("integer", "money", "decimal", "month")


@dataclass(frozen=True)
class Boundary:
    """``left`` compared with ``right`` (a field's path or a number) in one guard."""

    where: str  # "applies_when", or "step.answer"
    source: str  # the guard's expression
    left: str
    right: str | Decimal
    unit: Decimal | int | timedelta  # the smallest step of the left field's type
    file: str
    line: int | None

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{at}: {self.where}: {self.left} vs {self.right}"

    def right_value(self, fields: Mapping[str, Any]) -> Any:
        return fields.get(self.right) if isinstance(self.right, str) else self.right

    def side(self, fields: Mapping[str, Any]) -> str | None:
        """Where a context lies: below, at or above the boundary; None when a side is unset."""
        left, right = fields.get(self.left), self.right_value(fields)
        if left is None or right is None:
            return None
        return SIDES[(left > right) - (left < right) + 1]

    def value(self, fields: Mapping[str, Any], side: int) -> Any:
        """The left field's value one unit below (-1), at (0) or above (1) the right side."""
        right = self.right_value(fields)
        if right is None:
            return None
        if isinstance(self.unit, timedelta):
            return right + side * self.unit
        moved = Decimal(right) + side * Decimal(self.unit)
        return moved if isinstance(self.unit, Decimal) else int(moved)


def _path(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _unit(kind: str) -> Decimal | int | timedelta:
    if kind in ("money", "decimal"):
        return Decimal("0.01")
    return timedelta(days=1) if kind == "date" else 1


def _comparisons(flow: Flow, guard: Guard) -> Iterator[tuple[str, str | Decimal, str]]:
    """(left field, right field or number, the left field's type) of each comparison."""
    try:
        tree = ast.parse(guard.source, mode="eval")
    except SyntaxError:  # Jinja2 syntax that is not Python's: no boundary we can read
        return
    fields = flow.schema.fields
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], _ORDERING)):
            continue
        sides: list[ast.expr] = [node.left, node.comparators[0]]
        paths = [_path(side) for side in sides]
        typed = [p for p in paths if p in fields and fields[p].type in (*_NUMERIC, "date")]
        if not typed:
            continue
        left = typed[0]
        other_node = sides[1] if paths[0] == left else sides[0]
        other = _path(other_node)
        if other is not None and other in fields and fields[other].type == fields[left].type:
            yield left, other, fields[left].type
        elif (isinstance(other_node, ast.Constant) and isinstance(other_node.value, int | float)
              and not isinstance(other_node.value, bool) and fields[left].type != "date"):
            yield left, Decimal(str(other_node.value)), fields[left].type


def boundaries(flow: Flow) -> list[Boundary]:
    """Every boundary of the flow's ``applies_when`` and answer guards, in file order."""
    guards: list[tuple[str, Guard, str, int | None]] = []
    if flow.applies_when is not None:
        guards.append(("applies_when", flow.applies_when, flow.files[0], None))
    for step in flow.steps.values():
        for answer in step.answers.values():
            if answer.guard is not None:
                guards.append((f"{step.id}.{answer.id}", answer.guard, step.file, answer.line))
    out: list[Boundary] = []
    for where, guard, file, line in guards:
        for left, right, kind in _comparisons(flow, guard):
            out.append(Boundary(where, guard.source, left, right, _unit(kind), file, line))
    return list(dict.fromkeys(out))


def context_fields(context: BaseModel) -> dict[str, Any]:
    """A context as {part.field: value}."""
    data = context.model_dump()
    return {f"{part}.{name}": value for part, values in data.items() if isinstance(values, dict)
            for name, value in values.items()}


def reached(flow: Flow, contexts: Iterable[BaseModel]) -> dict[Boundary, set[str]]:
    """For each boundary of ``flow``, the sides (below, at, above) the contexts took."""
    found: dict[Boundary, set[str]] = {b: set() for b in boundaries(flow)}
    for context in contexts:
        fields = context_fields(context)
        for boundary, sides in found.items():
            side = boundary.side(fields)
            if side is not None:
                sides.add(side)
    return found
