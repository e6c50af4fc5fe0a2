"""Values that print as placeholders: the seed's (***, XX) or the schema's labels (【本月话费】).

A generic printed script has no customer. Its lines render over these values,
which survive what an ordinary template does with a real value: arithmetic
(``billing.last_month - billing.this_month`` prints 【上月话费】-【本月话费】),
comparisons, ``captured.NAME`` (prints the capture's label). A template that
still cannot render prints its source: printing never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2.exceptions import TemplateError
from pydantic import BaseModel

from callscript.compiled import Flow, Line, template_variables
from callscript.context import ContextSchema


class Shown:
    """A value shown as text; operations on it give the expression in words."""

    __slots__ = ("label", "text")

    def __init__(self, text: str, label: str) -> None:
        self.text, self.label = text, label

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Shown({self.text!r})"

    def __getattr__(self, name: str) -> Shown:
        if name.startswith("_"):
            raise AttributeError(name)
        return self  # {{ bill.due_on.month }}: a part of the value, shown as the value

    def _op(self, other: Any, sign: str, reverse: bool = False) -> Shown:
        mine, theirs = self.label, (other.label if isinstance(other, Shown) else str(other))
        left, right = (theirs, mine) if reverse else (mine, theirs)
        return Shown(f"{left}{sign}{right}", f"{left}{sign}{right}")

    def __add__(self, other: Any) -> Shown: return self._op(other, "+")
    def __radd__(self, other: Any) -> Shown: return self._op(other, "+", True)
    def __sub__(self, other: Any) -> Shown: return self._op(other, "-")
    def __rsub__(self, other: Any) -> Shown: return self._op(other, "-", True)
    def __mul__(self, other: Any) -> Shown: return self._op(other, "×")
    def __rmul__(self, other: Any) -> Shown: return self._op(other, "×", True)
    def __truediv__(self, other: Any) -> Shown: return self._op(other, "÷")
    def __rtruediv__(self, other: Any) -> Shown: return self._op(other, "÷", True)
    def __floordiv__(self, other: Any) -> Shown: return self._op(other, "÷")
    def __mod__(self, other: Any) -> Shown: return self._op(other, "%")
    def __neg__(self) -> Shown: return Shown(f"-{self.label}", f"-{self.label}")
    def __abs__(self) -> Shown: return self
    def __round__(self, ndigits: int | None = None) -> Shown: return self
    def __float__(self) -> float: return 0.0
    def __int__(self) -> int: return 0
    # A generic script shows every branch it can: conditions over placeholders hold.
    def __lt__(self, other: Any) -> bool: return True
    def __le__(self, other: Any) -> bool: return True
    def __gt__(self, other: Any) -> bool: return True
    def __ge__(self, other: Any) -> bool: return True
    def __bool__(self) -> bool: return True
    def __len__(self) -> int: return len(self.text)
    def __iter__(self) -> Any: return iter(self.text)


def bracket(label: str) -> str:
    return f"【{label}】"


def shown_context(schema: ContextSchema, *, labels: bool, base: BaseModel | None = None,
                  absent: Iterable[str] = ()) -> BaseModel:
    """The context a generic script renders with: unset fields as placeholders or labels.

    ``absent`` fields stay None, so that a line branching on them prints that variant.
    """
    gone = set(absent)
    parts: dict[str, BaseModel] = {}
    for part_name, part in schema.parts.items():
        given = getattr(base, part_name, None) if base is not None else None
        values: dict[str, Any] = {}
        for name, spec in part.fields.items():
            path = f"{part_name}.{name}"
            value = getattr(given, name, None) if given is not None else spec.default
            if path in gone:
                value = None
            elif value is None or (labels and spec.placeholder is not None
                                   and str(value) == spec.placeholder):
                text = bracket(spec.label) if labels or spec.placeholder is None else spec.placeholder
                value = Shown(text, bracket(spec.label))
            values[name] = value
        model = schema.model.model_fields[part_name].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        parts[part_name] = model.model_construct(None, **values)
    return schema.model.model_construct(None, **parts)


def shown_captures(flow: Flow) -> dict[str, Shown]:
    """``captured.NAME`` in a generic script: the capture's label."""
    return {name: Shown(bracket(c.label), bracket(c.label)) for name, c in flow.captures.items()}


def safe_render(line: Line, variables: Mapping[str, Any]) -> str:
    """Render for print; a template that cannot render with placeholders prints its source."""
    try:
        return line.render(variables)
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, KeyError):
        return line.source


def generic_variables(flow: Flow, labels: bool,
                      base: BaseModel | None = None) -> list[dict[str, Any]]:
    """One set of variables per variant: each optional field alone, then all of them."""
    captured = shown_captures(flow)
    optional = sorted(flow.optional_context)
    contexts = [shown_context(flow.schema, labels=labels, base=base,
                              absent=[p for p in optional if p != path]) for path in optional]
    contexts.append(shown_context(flow.schema, labels=labels, base=base))
    return [template_variables(c, captured) for c in contexts]
