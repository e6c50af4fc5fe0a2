"""Jinja2 expressions (flow guards, policy rules) compiled to Polars column expressions.

A flow's ``applies_when`` and a policy rule's ``when`` are Jinja2 expressions
over the call context. The planner evaluates them over a million customers at
once, so each one is translated node by node into a Polars expression. What
cannot be translated is refused with a clear error: there is no fallback that
runs Jinja2 row by row.

Semantics follow Jinja2 where the row has values, and take "false" where
Jinja2 would fail on a missing value (``None < 5`` raises in Jinja2; such a
customer could not start the flow either).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from callscript.errors import CallscriptError
from callscript.render import dotted

NUMERIC = frozenset({"integer", "money", "decimal", "month"})
TEXTUAL = frozenset({"text", "phone", "choice"})

_ENV = ImmutableSandboxedEnvironment()

_COMPARE: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "eq": lambda a, b: a.eq_missing(b), "ne": lambda a, b: a.ne_missing(b),
    "lt": lambda a, b: a < b, "lteq": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "gteq": lambda a, b: a >= b,
}
_ARITHMETIC: dict[type[nodes.BinExpr], Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    nodes.Add: lambda a, b: a + b, nodes.Sub: lambda a, b: a - b,
    nodes.Mul: lambda a, b: a * b, nodes.Div: lambda a, b: a / b,
    nodes.FloorDiv: lambda a, b: a // b, nodes.Mod: lambda a, b: a % b,
}


class Untranslatable(CallscriptError):
    """An expression uses something the planner cannot evaluate as columns."""


@dataclass(frozen=True, slots=True)
class Typed:
    expr: pl.Expr
    kind: str  # bool, number, text, date, null, or a field type


@dataclass(frozen=True, slots=True)
class Names:
    """What an expression may read.

    ``columns`` maps a dotted path (``billing.this_month``) to its field type;
    the frame holds a column of that exact name. ``params`` are the policy's
    constants (``params.drop_share``); ``today`` is the planned day.
    """

    columns: Mapping[str, str]
    params: Mapping[str, Any]
    today: date


def compile_expression(source: str, names: Names) -> pl.Expr:
    """The Polars expression, true exactly where ``source`` is truthy in Jinja2."""
    try:
        ast = _ENV.parse("{{ (" + source + ") }}")
    except TemplateSyntaxError as err:
        raise Untranslatable(f"Jinja2 expression syntax: {err.message}") from None
    body = ast.body[0]
    if not (isinstance(body, nodes.Output) and len(body.nodes) == 1):
        raise Untranslatable("not a single expression")
    return _truthy(_node(body.nodes[0], names))


def paths_read(source: str) -> set[str]:
    """The dotted paths an expression reads (``billing.last_month``), params excluded."""
    found: set[str] = set()
    try:
        ast = _ENV.parse("{{ (" + source + ") }}")
    except TemplateSyntaxError:
        return found
    for node in ast.find_all((nodes.Getattr, nodes.Name)):
        path = dotted(node)
        if path and "." in path and not path.startswith("params."):
            found.add(path)
    return found


def _truthy(typed: Typed) -> pl.Expr:
    """Jinja2 truthiness of a value; a missing value is false."""
    expr, kind = typed.expr, typed.kind
    if kind == "bool":
        return expr.fill_null(False)
    if kind == "null":
        return pl.lit(False)
    if kind in NUMERIC or kind == "number":
        return expr.is_not_null() & (expr != 0)
    if kind in TEXTUAL:
        return expr.is_not_null() & (expr.str.len_chars() > 0)
    return expr.is_not_null()


def _const(value: Any) -> Typed:
    if value is None:
        return Typed(pl.lit(None), "null")
    if isinstance(value, bool):
        return Typed(pl.lit(value), "bool")
    if isinstance(value, int | float):
        return Typed(pl.lit(value), "number")
    if isinstance(value, str):
        return Typed(pl.lit(value), "text")
    if isinstance(value, date):
        return Typed(pl.lit(value), "date")
    raise Untranslatable(f"a constant of type {type(value).__name__} is not supported")


def _node(node: nodes.Node, names: Names) -> Typed:
    if isinstance(node, nodes.Const):
        return _const(node.value)
    if isinstance(node, nodes.Name | nodes.Getattr):
        return _path(node, names)
    if isinstance(node, nodes.And | nodes.Or):
        left, right = _truthy(_node(node.left, names)), _truthy(_node(node.right, names))
        return Typed(left & right if isinstance(node, nodes.And) else left | right, "bool")
    if isinstance(node, nodes.Not):
        if isinstance(node.node, nodes.Test):
            tested = _test(node.node, names)
            return Typed(~tested.expr, "bool")
        return Typed(~_truthy(_node(node.node, names)), "bool")
    if isinstance(node, nodes.Test):
        return _test(node, names)
    if isinstance(node, nodes.Compare):
        return _compare(node, names)
    if isinstance(node, nodes.BinExpr) and type(node) in _ARITHMETIC:
        left, right = _number(node.left, names), _number(node.right, names)
        return Typed(_ARITHMETIC[type(node)](left, right), "number")
    if isinstance(node, nodes.Neg):
        return Typed(-_number(node.node, names), "number")
    if isinstance(node, nodes.Pos):
        return Typed(_number(node.node, names), "number")
    if isinstance(node, nodes.CondExpr):
        if node.expr2 is None:
            raise Untranslatable("'x if c' needs an else branch")
        then, other = _node(node.expr1, names), _node(node.expr2, names)
        test = _truthy(_node(node.test, names))
        return Typed(pl.when(test).then(then.expr).otherwise(other.expr), then.kind)
    if isinstance(node, nodes.Call):
        return _call(node, names)
    raise Untranslatable(f"{type(node).__name__} expressions are not supported by the planner")


def _path(node: nodes.Node, names: Names) -> Typed:
    path = dotted(node)
    if path is None:
        raise Untranslatable("only dotted names (customer.name) can be read")
    if path.startswith("params."):
        key = path.removeprefix("params.")
        if key not in names.params:
            raise Untranslatable(f"unknown parameter {path!r}")
        return _const(names.params[key])
    kind = names.columns.get(path)
    if kind is None:
        raise Untranslatable(f"unknown name {path!r}")
    return Typed(pl.col(path), kind)


def _number(node: nodes.Node, names: Names) -> pl.Expr:
    typed = _node(node, names)
    if typed.kind not in NUMERIC and typed.kind not in ("number", "null"):
        raise Untranslatable(f"arithmetic on a {typed.kind} value")
    return typed.expr


def _test(node: nodes.Test, names: Names) -> Typed:
    if node.name != "none" or node.args or node.kwargs:
        raise Untranslatable(f"the test 'is {node.name}' is not supported (only 'is none')")
    return Typed(_node(node.node, names).expr.is_null(), "bool")


def _compare(node: nodes.Compare, names: Names) -> Typed:
    result: pl.Expr | None = None
    left = _node(node.expr, names)
    for operand in node.ops:
        if operand.op in ("in", "notin"):
            if not isinstance(operand.expr, nodes.List | nodes.Tuple) or not all(
                    isinstance(item, nodes.Const) for item in operand.expr.items):
                raise Untranslatable("'in' needs a list of constants")
            values = [item.value for item in operand.expr.items if isinstance(item, nodes.Const)]
            found = left.expr.is_in(values).fill_null(False)
            step = found if operand.op == "in" else ~found
            right = left
        else:
            right = _node(operand.expr, names)
            if (left.kind == "date") != (right.kind == "date") and "null" not in (left.kind, right.kind):
                raise Untranslatable("a date can only be compared with a date")
            step = _COMPARE[operand.op](left.expr, right.expr)
        result = step if result is None else result & step
        left = right
    assert result is not None
    return Typed(result.fill_null(False), "bool")


def _call(node: nodes.Call, names: Names) -> Typed:
    """The one function: ``days_since(row.opened_on)``, whole days before the planned day."""
    if not (isinstance(node.node, nodes.Name) and node.node.name == "days_since"):
        raise Untranslatable("the only function is days_since(a date)")
    if len(node.args) != 1 or node.kwargs or node.dyn_args or node.dyn_kwargs:
        raise Untranslatable("days_since takes one date")
    arg = _node(node.args[0], names)
    if arg.kind != "date":
        raise Untranslatable("days_since takes a date")
    return Typed((pl.lit(names.today) - arg.expr).dt.total_days(), "number")
