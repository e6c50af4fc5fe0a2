"""A record replays against a flow: the same flow gives no difference, a changed one says where."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from callscript import Call, SteppingClock, builtin_flows
from callscript.cli.app import main
from callscript.library import all_flows, load_libraries
from callscript.record import CallRecord
from callscript.rules.calendar import CHINA
from callscript.testing.replay_record import moves_of, replay_record

from .conftest import FIXTURES, context_for

TINY = FIXTURES / "mutation" / "tiny.yaml"
CONTEXT = {"customer": {"name": "王", "title": "先生", "phone": "13812345678"}}


def tiny(tmp_path: Path, old: str = "", new: str = "") -> object:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return all_flows(load_libraries([], [path]))["tiny"]


def tiny_record(answers: list[tuple[str, dict[str, object]]]) -> CallRecord:
    call = Call.start(all_flows(load_libraries([], [TINY]))["tiny"], CONTEXT,
                      clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA)))
    for answer, captures in answers:
        call.answer(answer, captures)
    # as the CRM stores it: JSON
    return CallRecord.model_validate_json(call.record().model_dump_json())


def test_the_same_flow_replays_a_record_exactly(tmp_path: Path) -> None:
    record = tiny_record([("yes", {}), ("happy", {"score": 9})])
    assert [(m.kind, m.id, dict(m.captures)) for m in moves_of(record)] == [
        ("answer", "yes", {}), ("answer", "happy", {"score": 9})]
    assert replay_record(tiny(tmp_path), record, CONTEXT) == []


def test_a_builtin_call_with_an_interruption_and_a_follow_up_replays_exactly() -> None:
    flow = builtin_flows()["first_visit"]
    call = Call.start(flow, context_for("first_visit"),
                      clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA),
                                          timedelta(seconds=10)))
    for answer in ("answered", "confirmed"):
        call.answer(answer)
    call.interrupt("busy")
    call.answer("gives_time", {"callback_time": "2026-11-24T15:00"})
    record = CallRecord.model_validate_json(call.record().model_dump_json())
    assert record.follow_ups and record.path[3].interruption is None
    assert replay_record(flow, record, context_for("first_visit")) == []


def test_a_reworded_line_is_located(tmp_path: Path) -> None:
    record = tiny_record([("yes", {}), ("happy", {"score": 9})])
    changed = tiny(tmp_path, "请问您对我们的服务满意吗？", "请问您对服务满意吗？")
    assert replay_record(changed, record, CONTEXT) == [  # type: ignore[arg-type]
        "path[1] (ask): line 1 is worded differently"]


def test_a_retargeted_answer_shows_where_the_path_diverges(tmp_path: Path) -> None:
    record = tiny_record([("yes", {}), ("happy", {"score": 9})])
    changed = tiny(tmp_path, "        to: done\n", "        to: wrong\n")  # happy's, the first
    assert replay_record(changed, record, CONTEXT) == [  # type: ignore[arg-type]
        "path[2]: recorded step 'done', now 'wrong'"]


def test_a_changed_disposition_is_reported(tmp_path: Path) -> None:
    record = tiny_record([("yes", {}), ("unhappy", {})])
    changed = tiny(tmp_path, "      - disposition: escalated\n", "      - disposition: refused\n")
    assert replay_record(changed, record, CONTEXT) == [  # type: ignore[arg-type]
        "disposition: recorded escalated, now refused"]


def test_an_answer_the_flow_no_longer_offers_is_refused(tmp_path: Path) -> None:
    record = tiny_record([("yes", {}), ("happy", {"score": 9})])
    changed = tiny(tmp_path, "        capture:\n          - {name: score, type: int, label: 评分}\n",
                   "        capture:\n          - {name: score, type: choice, label: 评分, "
                   "choices: [好, 差]}\n")
    assert replay_record(changed, record, CONTEXT) == [  # type: ignore[arg-type]
        "move 2 (answer 'happy' at step 'ask'): refused now (CaptureRejected)",
        "path[2]: step 'done' is not reached now",
        "disposition: recorded completed, now None",
        "captures differ: score",
        "waited_for_customer_hangup: recorded True, now False"]


def test_another_version_is_named(tmp_path: Path) -> None:
    record = tiny_record([("no", {})])
    changed = tiny(tmp_path, "title: 满意度小调查\n", "title: 满意度小调查\nversion: 2\n")
    assert replay_record(changed, record, CONTEXT) == [  # type: ignore[arg-type]
        "flow: recorded tiny v1, replayed on tiny v2"]


def test_cli_record_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tiny_record([("yes", {}), ("happy", {"score": 9})])
    saved = tmp_path / "call.json"
    saved.write_text(record.model_dump_json(), encoding="utf-8")
    context = tmp_path / "context.yaml"
    context.write_text(json.dumps(CONTEXT, ensure_ascii=False), encoding="utf-8")
    assert main(["record", "replay", str(saved), "--context", str(context), "-f", str(TINY)]) == 0
    assert "same: tiny v1 replayed on v1" in capsys.readouterr().err
    reworded = tmp_path / "tiny.yaml"
    reworded.write_text(TINY.read_text(encoding="utf-8").replace("感谢您的接听", "谢谢您的接听"),
                        encoding="utf-8")
    assert main(["record", "replay", str(saved), "--context", str(context), "-f", str(reworded),
                 "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "flow": "tiny", "version": 1, "differences": ["path[2] (done): line 1 is worded differently"]}
    (tmp_path / "bad.json").write_text('{"phone": "13812345678"}', encoding="utf-8")
    assert main(["record", "replay", str(tmp_path / "bad.json"), "--context", str(context)]) == 2
    assert "13812345678" not in capsys.readouterr().err
