"""Argument checks for the public API: a wrong type is an ArgumentError naming the parameter.

Checked before a turn computes anything, so a refused call changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from callscript.compiled import Flow
from callscript.errors import ArgumentError
from callscript.events import Listener
from callscript.state import MAX_ID


def check_turn_args(revision: object, turn_id: object) -> None:
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        raise ArgumentError("revision", "an int (the revision the turn answers) or None", revision)
    if turn_id is not None and (not isinstance(turn_id, str) or not 1 <= len(turn_id) <= MAX_ID):
        raise ArgumentError("turn_id", f"text of 1 to {MAX_ID} characters or None", turn_id)


def check_captures(captures: object) -> Mapping[Any, Any] | None:
    if captures is not None and not isinstance(captures, Mapping):
        raise ArgumentError("captures", "a mapping of capture names to values, or None", captures)
    return captures


def check_call_args(flow: object, clock: object, listeners: object) -> list[Listener]:
    """Start's and restore's shared arguments; the listeners as a list."""
    if not isinstance(flow, Flow):
        raise ArgumentError("flow", "a compiled Flow (from builtin_flows() or load_flows())", flow)
    if not callable(clock):
        raise ArgumentError("clock", "a callable returning an aware datetime", clock)
    if type(listeners) is tuple and not listeners:
        return []
    if isinstance(listeners, str | bytes) or not isinstance(listeners, Iterable):
        raise ArgumentError("listeners", "an iterable of callables", listeners)
    given = list(listeners)
    for listener in given:
        if not callable(listener):
            raise ArgumentError("listeners", "an iterable of callables", listener)
    return given
