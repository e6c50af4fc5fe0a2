"""What the core's mutation run (benchmarks/mutation.py) found no test noticing in the compiler."""

from __future__ import annotations

import pytest
from hypothesis.vendor.pretty import pretty

from callscript import FlowError, builtin_flows
from callscript.compile import compile_flow
from callscript.library import load_library

from .conftest import FIXTURES


def test_a_flow_pretty_prints_as_its_short_repr() -> None:
    flow = builtin_flows()["first_visit"]
    assert pretty(flow) == repr(flow) == "<Flow first_visit v2: 41 steps>"


def test_compile_flow_keeps_the_schema_it_is_given_and_defaults_the_rest() -> None:
    water = load_library(FIXTURES / "libraries" / "water")
    spec, files = water.specs["payment_reminder"], water.includable()
    assert compile_flow(spec, files, schema=water.schema,
                        dispositions=water.dispositions).schema is water.schema
    # water's schema with telecom's dispositions: only water's own dispositions are unknown
    with pytest.raises(FlowError) as caught:
        compile_flow(spec, files, schema=water.schema)
    assert {p.message.split(" is not declared")[0] for p in caught.value.problems} == {
        "disposition 'promised'", "disposition 'disputed'"}
    # water's dispositions with telecom's schema: water's context fields are unknown
    with pytest.raises(FlowError) as caught:
        compile_flow(spec, files, dispositions=water.dispositions)
    assert all("context field" in p.message for p in caught.value.problems)


def test_transitions_info_logs_are_silenced_on_import() -> None:
    import logging

    import callscript.machine  # noqa: F401  (sets the level on import)

    assert logging.getLogger("transitions").level == logging.WARNING
