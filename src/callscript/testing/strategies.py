"""Hypothesis strategies for callscript flows (needs the ``hypothesis`` package).

    from hypothesis import given
    from callscript.testing.strategies import contexts, walks

    @given(walk=walks(flow))
    def test_my_flow(walk): call, moves = walk; ...
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st
from pydantic import BaseModel

from callscript.compile import Flow, template_variables
from callscript.context import FieldSpec
from callscript.runtime import Call
from callscript.testing.boundaries import Boundary, boundaries
from callscript.testing.samples import context_values, wanted_fields
from callscript.testing.walk import Move, random_walk

# Characters of the forbidden phrases are left out of generated text, so that a
# wording failure is always the template's, never the generated value's.
_FORBIDDEN_CHARS = frozenset("你不知道")
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(
    lambda c: c not in _FORBIDDEN_CHARS)
_TEXT = st.text(st.one_of(_CJK, st.characters(codec="ascii", categories=["L", "N", "P", "S"])),
                min_size=1, max_size=12).filter(lambda s: s.strip() == s)

names = st.text(_CJK, min_size=1, max_size=3)
phones = st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"),
                   st.integers(0, 10**9 - 1))
home_phones = st.builds(lambda a, n: f"0{a}-{n:08d}", st.integers(10, 999),
                        st.integers(10**7, 10**8 - 1))
addresses = st.builds(lambda city, road, no: f"{city}市{road}路{no}号",
                      st.text(_CJK, min_size=2, max_size=3), st.text(_CJK, min_size=2, max_size=4),
                      st.integers(1, 999))
birthdays = st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31))
amounts = st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2, allow_nan=False,
                      allow_infinity=False)
months = st.integers(1, 12)

_BY_NAME: dict[str, st.SearchStrategy[Any]] = {  # plausible values where a field's name says
    "name": names, "title": st.sampled_from(["先生", "女士"]),
}


def field_strategy(spec: FieldSpec, name: str = "") -> st.SearchStrategy[Any]:
    """Valid values of one context field, within its type and constraints."""
    low = None if spec.min is None else spec.min
    high = None if spec.max is None else spec.max
    match spec.type:
        case "text":
            strategy = _BY_NAME.get(name, _TEXT) if name != "title" else _TEXT
            if spec.max_length:
                strategy = strategy.map(lambda s: s[: spec.max_length])
            return strategy
        case "choice":
            return st.sampled_from(spec.choices or [""])
        case "phone":
            return st.one_of(phones, home_phones)
        case "integer":
            return st.integers(int(low) if low is not None else -(10**6),
                               int(high) if high is not None else 10**6)
        case "money" | "decimal":
            return st.decimals(min_value=low if low is not None else Decimal("-99999.99"),
                               max_value=high if high is not None else Decimal("99999.99"),
                               places=2, allow_nan=False, allow_infinity=False)
        case "month":
            return months
        case "date":
            return st.dates(min_value=date(1930, 1, 1), max_value=date(2030, 12, 31))
        case "bool":
            return st.booleans()
    raise AssertionError(spec.type)


@st.composite
def contexts(draw: st.DrawFn, flow: Flow, *, applicable: bool = True) -> BaseModel:
    """Valid contexts for ``flow``: what it needs always, other fields sometimes.

    Amounts are drawn equal a fifth of the time, the boundary of a "fell" guard
    such as 话费异动's; a third of the time a guard's comparison of fields (or of a
    field with a number) is drawn one unit below, at or one unit above its boundary
    (callscript.testing.boundaries). With ``applicable=True`` only contexts that the flow's
    ``applies_when`` accepts are kept.
    """
    schema = flow.schema
    needed = set(wanted_fields(flow))
    fields: dict[str, Any] = {}
    for path, spec in schema.fields.items():
        if path in needed or draw(st.booleans(), label=f"give {path}"):
            fields[path] = draw(field_strategy(spec, path.split(".")[-1]), label=path)
    money = [p for p in fields if schema.fields[p].type == "money" and schema.fields[p].max is None]
    if len(money) > 1 and draw(st.integers(0, 4)) == 0:
        fields |= {p: fields[money[0]] for p in money}
    marks = boundaries(flow)
    if marks and draw(st.integers(0, 2), label="at a guard boundary") == 0:
        _to_boundary(draw, schema.fields, fields, draw(st.sampled_from(marks), label="boundary"))
    context = schema.model.model_validate(context_values(schema, fields))
    if (applicable and flow.applies_when is not None
            and not flow.applies_when.evaluate(**template_variables(context, {}))):
        reject()
    return context


def _to_boundary(draw: st.DrawFn, specs: Mapping[str, FieldSpec], fields: dict[str, Any],
                 mark: Boundary) -> None:
    """Move the boundary's left field one unit below, onto, or one unit above its right side."""
    if isinstance(mark.right, str) and mark.right not in fields:
        fields[mark.right] = draw(field_strategy(specs[mark.right]), label=mark.right)
    value = mark.value(fields, draw(st.sampled_from((-1, 0, 1)), label="side"))
    spec = specs[mark.left]
    low = 1 if spec.type == "month" else spec.min
    high = 12 if spec.type == "month" else spec.max
    if value is None or (low is not None and value < low) or (high is not None and value > high):
        return  # the boundary lies at the edge of what the field allows
    fields[mark.left] = value


@st.composite
def walks(draw: st.DrawFn, flow: Flow) -> tuple[Call, list[Move]]:
    """A complete call through ``flow``: a valid context, then seeded random valid moves."""
    context = draw(contexts(flow), label="context")
    seed = draw(st.integers(0, 2**32 - 1), label="walk seed")
    return random_walk(flow, context, random.Random(seed))
