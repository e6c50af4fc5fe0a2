"""Snapshots: JSON between requests, validated on restore, versioned, no effects re-run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callscript import Call, Flow, SnapshotError, load_flows

from .conftest import FIXTURES, context_for


def mid_call(flows: dict[str, Flow]) -> Call:
    call = Call.start(flows["first_visit"], context_for("first_visit"))
    for answer in ("answered", "confirmed", "agrees"):
        call.answer(answer)
    call.interrupt("wary")
    return call


def test_restore_continues_where_the_call_was(flows: dict[str, Flow]) -> None:
    call = mid_call(flows)
    saved = json.dumps(call.snapshot())
    again = Call.restore(flows["first_visit"], saved, context_for("first_visit"))
    assert again.prompt == call.prompt
    again.answer("has_card")
    assert again.prompt.step == "listen"  # the return stack survived


def test_restoring_does_not_rerun_entry_effects(flows: dict[str, Flow]) -> None:
    call = mid_call(flows)
    call.answer("has_card")
    call.interrupt("network")
    call.answer("gives_place", {"no_signal_place": "地下车库"})
    assert call.prompt.step == "network.forward"  # whose entry scheduled the network test
    assert len(call.record().follow_ups) == 1
    again = Call.restore(flows["first_visit"], call.snapshot(), context_for("first_visit"))
    assert again.record().follow_ups == call.record().follow_ups


def test_snapshot_of_another_flow_is_refused(flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot()
    with pytest.raises(SnapshotError, match="of flow 'first_visit', not 'second_visit'"):
        Call.restore(flows["second_visit"], saved, context_for("second_visit"))


def test_snapshot_of_another_version_is_refused_without_a_migration(
        flows: dict[str, Flow]) -> None:
    saved = mid_call(flows).snapshot() | {"version": 7}
    with pytest.raises(SnapshotError, match="v7, the flow is v2, and the flow declares no "
                                            "migration from v7"):
        Call.restore(flows["first_visit"], saved, context_for("first_visit"))


def test_declared_migration_renames_steps() -> None:
    mini = load_flows(FIXTURES / "good" / "mini.yaml")["mini"]
    context = {"customer": {"name": "王", "title": "女士"}, "deployment": {"hotline": "10010"}}
    call = Call.start(mini, context)
    old = call.snapshot()
    old["version"] = 1
    old["step"] = "question"
    old["path"][0]["step"] = "question"
    restored = Call.restore(mini, old, context)
    assert restored.prompt.step == "ask"
    restored.answer("no", {"reason": "太贵"})
    assert restored.record().complaints[0].kind == "suggestion"


def _with_capture(s: dict[str, Any], value: Any) -> dict[str, Any]:
    path = [dict(e) for e in s["path"]]
    path[1]["captures"] = {"address": value}  # an answer that captures nothing
    return s | {"path": path}


@pytest.mark.parametrize(("damage", "message"), [
    (lambda s: s | {"format": "something/9"},
     "not a valid callscript snapshot: a value that is not allowed there (at snapshot.format)"),
    (lambda s: s | {"step": "nowhere"},
     "snapshot field step names a step that flow 'first_visit' v2 does not have"),
    (lambda s: s | {"stack": ["nowhere"]},
     "snapshot field stack[0] names a step that flow 'first_visit' v2 does not have"),
    (lambda s: s | {"path": []},
     "not a valid callscript snapshot: expected array of length >= 1 (at snapshot.path)"),
    (lambda s: {k: v for k, v in s.items() if k != "call_id"},
     "not a valid callscript snapshot: a required field is missing: call_id (at the snapshot "
     "itself)"),
    (lambda s: _with_capture(s, 5),
     "snapshot field path[1].captures holds a value the answer does not capture"),
], ids=["format", "step", "stack", "path", "missing-key", "capture"])
def test_damaged_snapshots_are_refused(flows: dict[str, Flow], damage: Any, message: str) -> None:
    saved = damage(mid_call(flows).snapshot())
    with pytest.raises(SnapshotError) as caught:
        Call.restore(flows["first_visit"], saved, context_for("first_visit"))
    assert str(caught.value) == message


def test_malformed_json_is_refused(flows: dict[str, Flow]) -> None:
    with pytest.raises(SnapshotError, match="not a valid callscript snapshot"):
        Call.restore(flows["first_visit"], "{not json", context_for("first_visit"))
