"""Pins the transitions mechanism the runtime relies on: detached models on one machine."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
import transitions
from transitions import Machine

from callscript import Call, Flow
from callscript.testing import random_walk

from .conftest import context_for


def test_event_trigger_moves_a_detached_model_and_runs_on_enter() -> None:
    entered: list[Any] = []
    machine = Machine(model=None, states=[{"name": "a"}, {"name": "b", "on_enter": [entered.append]}],
                      initial="a", auto_transitions=False, send_event=True)
    machine.add_transition("go", "a", "b")
    model = SimpleNamespace(state="a")
    assert machine.events["go"].trigger(model) is True
    assert model.state == "b"
    assert len(entered) == 1 and entered[0].model is model
    assert machine.models == []  # nothing was registered


def test_set_state_moves_without_callbacks() -> None:
    entered: list[Any] = []
    machine = Machine(model=None, states=[{"name": "a"}, {"name": "b", "on_enter": [entered.append]}],
                      initial="a", auto_transitions=False, send_event=True)
    model = SimpleNamespace(state="a")
    machine.set_state("b", model=model)
    assert model.state == "b" and entered == []


def test_internal_transition_keeps_the_state_and_runs_after() -> None:
    after: list[Any] = []
    machine = Machine(model=None, states=["a"], initial="a", auto_transitions=False,
                      send_event=True)
    machine.add_transition("stay", "a", None, after=[after.append])
    model = SimpleNamespace(state="a")
    assert machine.events["stay"].trigger(model) is True
    assert model.state == "a" and len(after) == 1


def test_builtin_flows_have_no_auto_transitions(flows: dict[str, Flow]) -> None:
    for flow in flows.values():
        assert not any(name.startswith("to_") for name in flow.machine.events)
        assert flow.machine.models == []


def test_calls_build_no_machine_and_register_nothing(flows: dict[str, Flow],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a call built a machine")

    monkeypatch.setattr(transitions.Machine, "__init__", refuse)
    monkeypatch.setattr(transitions.Machine, "add_model", refuse)
    rng = random.Random(7)
    for flow in flows.values():
        for _ in range(20):
            call, _moves = random_walk(flow, context_for(flow.id), rng)
            assert isinstance(call, Call) and call.ended
        assert flow.machine.models == []
