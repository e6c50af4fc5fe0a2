"""Hypothesis strategies for callscript flows (needs the ``hypothesis`` package).

    from hypothesis import given
    from callscript.testing.strategies import contexts, walks

    @given(walk=walks(flow))
    def test_my_flow(walk): call, moves = walk; ...
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from callscript.compile import Flow, template_variables
from callscript.context import CONTEXT_FIELDS, CallContext
from callscript.runtime import Call
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

FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "customer.name": names,
    "customer.title": st.sampled_from(["先生", "女士"]),
    "customer.phone": phones,
    "customer.is_holder": st.booleans(),
    "customer.reference": st.from_regex(r"C-[0-9]{4,8}", fullmatch=True),
    "billing.last_month": amounts,
    "billing.this_month": amounts,
    "billing.idle_since_month": months,
    "billing.suspended_since_month": months,
    "agent.id": st.from_regex(r"A[0-9]{4}", fullmatch=True),
    "agent.name": names,
    "agent.phone": home_phones,
    "deployment.carrier": st.sampled_from(["联通", "移动", "电信"]),
    "deployment.hotline": st.from_regex(r"100[0-9]{2}", fullmatch=True),
    "deployment.service_centre": _TEXT,
}
"""A strategy per context field; the other fields keep their defaults."""


@st.composite
def contexts(draw: st.DrawFn, flow: Flow, *, applicable: bool = True) -> CallContext:
    """Valid contexts for ``flow``: every required field, optional ones sometimes.

    Billing amounts are drawn equal a fifth of the time, the boundary of
    话费异动's guard. With ``applicable=True`` only contexts that the flow's
    ``applies_when`` accepts are kept.
    """
    values: dict[str, dict[str, Any]] = {"customer": {}, "billing": {}, "agent": {},
                                         "deployment": {}}
    for path in CONTEXT_FIELDS:
        strategy = FIELD_STRATEGIES.get(path)
        if strategy is None:
            continue
        wanted = path in flow.required_context or path.startswith(("agent.", "deployment."))
        if wanted or draw(st.booleans(), label=f"give {path}"):
            part, name = path.split(".")
            values[part][name] = draw(strategy, label=path)
    bill = values["billing"]
    if "last_month" in bill and "this_month" in bill and draw(st.integers(0, 4)) == 0:
        bill["this_month"] = bill["last_month"]
    context = CallContext.model_validate(values)
    if (applicable and flow.applies_when is not None
            and not flow.applies_when.evaluate(**template_variables(context, {}))):
        reject()
    return context


@st.composite
def walks(draw: st.DrawFn, flow: Flow) -> tuple[Call, list[Move]]:
    """A complete call through ``flow``: a valid context, then seeded random valid moves."""
    context = draw(contexts(flow), label="context")
    seed = draw(st.integers(0, 2**32 - 1), label="walk seed")
    return random_walk(flow, context, random.Random(seed))
