"""The snapshot format: what ``Call.snapshot()`` writes and ``Call.restore`` validates.

Format ``callscript.snapshot/2``. Snapshots of format ``callscript.snapshot/1``
(before revisions, turn ids and the context fingerprint) are refused with a
``SnapshotError`` that says so: they cannot prove which customer they belong to.

msgspec decodes and validates in one pass (types, aware timestamps, bounds),
then ``load_state`` checks the snapshot against the flow: steps, answers and
interruptions that exist, captures of the answers that took them, the end.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from callscript.captures import from_json
from callscript.compile import Flow
from callscript.contextual import CallContext, fingerprint
from callscript.errors import SnapshotError
from callscript.spec import CaptureSpec
from callscript.state import (
    MAX_HISTORY,
    MAX_STACK,
    MAX_TURN_IDS,
    Aware,
    CallState,
    ComplaintItem,
    Entry,
    EscalationItem,
    Fingerprint,
    FollowUpItem,
    Id,
    TurnMemo,
    _Data,
)

SNAPSHOT_FORMAT: Literal["callscript.snapshot/2"] = "callscript.snapshot/2"
OLD_FORMATS = ("callscript.snapshot/1",)
MAX_BYTES = 1 << 20  # a snapshot of MAX_HISTORY long steps stays well below this
_MANY = msgspec.Meta(max_length=MAX_HISTORY)


class Snapshot(_Data, frozen=True):
    format: Literal["callscript.snapshot/2"]
    flow: Id
    version: Annotated[int, msgspec.Meta(ge=1)]
    call_id: Id
    revision: Annotated[int, msgspec.Meta(ge=1)]
    started_at: Aware
    ended_at: Aware | None
    step: Id
    stack: Annotated[tuple[Id, ...], msgspec.Meta(max_length=MAX_STACK)]
    outcome: str | None
    path: Annotated[tuple[Entry, ...], msgspec.Meta(min_length=1, max_length=MAX_HISTORY)]
    follow_ups: Annotated[tuple[FollowUpItem, ...], _MANY]
    complaints: Annotated[tuple[ComplaintItem, ...], _MANY]
    escalations: Annotated[tuple[EscalationItem, ...], _MANY]
    turns: Annotated[tuple[TurnMemo, ...], msgspec.Meta(max_length=MAX_TURN_IDS)]
    events: Annotated[int, msgspec.Meta(ge=0)]
    context: Fingerprint


_DECODER = msgspec.json.Decoder(Snapshot)
ENCODER = msgspec.json.Encoder()


def new_fingerprint(context: CallContext) -> Fingerprint:
    salt = secrets.token_bytes(16)
    return Fingerprint(salt=salt.hex(), digest=fingerprint(context, salt))


def same_customer(mark: Fingerprint, context: CallContext) -> bool:
    return hmac.compare_digest(mark.digest, fingerprint(context, bytes.fromhex(mark.salt)))


def _where(message: str) -> str:
    """The `$.path[0].at` of a msgspec message, with keys (input) left out, indices kept."""
    if " - at `" not in message:
        return "the snapshot itself"
    path = message.rsplit(" - at `", 1)[1].rstrip("`")
    parts = path.replace("$", "snapshot", 1).split("[")
    kept = [parts[0]] + [p if p.split("]")[0].isdigit() else "…]" + p.split("]", 1)[1]
                         for p in parts[1:]]
    return "[".join(kept)


def _what(message: str) -> str:
    head = message.split(" - at `")[0]
    if head.startswith("Expected") and "'" not in head and '"' not in head:
        return head[0].lower() + head[1:].replace("`", "")
    if head.startswith("Object missing required field"):
        return "a required field is missing: " + head.rsplit(" ", 1)[1].strip("`")
    if head.startswith("Object contains unknown field"):
        return "a field that a snapshot does not have"
    if head.startswith("Invalid enum value"):
        return "a value that is not allowed there"
    return "an invalid value"


def _refuse(message: str, raw: bytes | None) -> SnapshotError:
    if raw is not None and any(f'"{old}"'.encode() in raw for old in OLD_FORMATS):
        return _old_format()
    where, what = _where(message), _what(message)
    if where == "the snapshot itself" and "got" in what:
        return SnapshotError("a snapshot must be a JSON object")
    return SnapshotError(f"not a valid callscript snapshot: {what} (at {where})")


def _old_format() -> SnapshotError:
    return SnapshotError(f"snapshot format {OLD_FORMATS[0]} is no longer restored: it has no "
                         "revision and no context fingerprint, so it cannot show which customer "
                         "it belongs to; start the call again")


def parse(raw: str | bytes | bytearray | memoryview | Mapping[str, Any]) -> Snapshot:
    """Decode and validate the shape. Text and bytes are UTF-8 JSON; a mapping is JSON data."""
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise SnapshotError("not a valid callscript snapshot: invalid Unicode "
                                "(a lone surrogate)") from None
    elif isinstance(raw, bytearray | memoryview):
        data = bytes(raw)
    elif isinstance(raw, Mapping):
        return _convert(raw)
    else:
        raise SnapshotError(f"a snapshot must be JSON text, UTF-8 JSON bytes or a mapping, "
                            f"not {type(raw).__name__}")
    if len(data) > MAX_BYTES:
        raise SnapshotError(f"not a valid callscript snapshot: larger than {MAX_BYTES} bytes")
    try:
        return _DECODER.decode(data)
    except msgspec.ValidationError as err:
        raise _refuse(str(err), data) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise SnapshotError("not a valid callscript snapshot: not JSON in UTF-8 (or invalid "
                            "Unicode, or nested too deeply)") from None


def _convert(raw: Mapping[str, Any]) -> Snapshot:
    if raw.get("format") in OLD_FORMATS:
        raise _old_format()
    try:
        snap = msgspec.convert(dict(raw), Snapshot)
        ENCODER.encode(snap)  # refuses lone surrogates, which a mapping may hold
    except msgspec.ValidationError as err:
        raise _refuse(str(err), None) from None
    except (UnicodeEncodeError, RecursionError, TypeError, ValueError):
        raise SnapshotError("not a valid callscript snapshot: invalid Unicode or values that "
                            "are not JSON data") from None
    return snap


def _migration(flow: Flow, snap: Snapshot) -> Mapping[str, str]:
    if snap.flow != flow.id:
        raise SnapshotError(f"snapshot is of flow {snap.flow!r}, not {flow.id!r}")
    if snap.version == flow.version:
        return {}
    if snap.version in flow.migrations:
        return flow.migrations[snap.version]
    raise SnapshotError(
        f"snapshot is of {flow.id!r} v{snap.version}, the flow is v{flow.version}, and the flow "
        f"declares no migration from v{snap.version}")


def _due_ok(due: str | None) -> bool:
    if due is None:
        return True
    try:
        if "T" in due:
            return datetime.fromisoformat(due).tzinfo is not None
        date.fromisoformat(due)
    except ValueError:
        return False
    return True


def _load_captures(specs: tuple[CaptureSpec, ...], given: Mapping[str, Any],
                   captured: dict[str, Any], index: int) -> None:
    for name, value in given.items():
        spec = next((c for c in specs if c.name == name), None)
        if spec is None:
            raise SnapshotError(f"snapshot field path[{index}].captures holds a value the answer "
                                "does not capture")
        try:
            captured[name] = from_json(spec, value)
        except ValueError:
            raise SnapshotError(f"snapshot field path[{index}].captures holds an invalid "
                                "value") from None


def load_state(flow: Flow, snap: Snapshot) -> CallState:
    """The call state a valid snapshot describes, checked against ``flow``; else SnapshotError."""
    rename = _migration(flow, snap)

    def step_id(old: str, field: str) -> str:
        new = rename.get(old, old)
        if new not in flow.steps:
            raise SnapshotError(f"snapshot field {field} names a step that flow {flow.id!r} "
                                f"v{flow.version} does not have")
        return new

    steps, interruptions = flow.steps, flow.interruptions
    path = list(snap.path)
    captured: dict[str, Any] = {}
    last = len(path) - 1
    for i, item in enumerate(path):
        name = rename.get(item.step, item.step) if rename else item.step
        step = steps.get(name)
        if step is None:
            step_id(item.step, f"path[{i}].step")  # raises, naming the field
            raise AssertionError  # pragma: no cover
        if name != item.step:
            path[i] = msgspec.structs.replace(item, step=name)
        answer_id, interruption = item.answer, item.interruption
        if i == last:
            if answer_id is not None or interruption is not None or item.captures:
                raise SnapshotError(f"snapshot field path[{i}]: the current step has no "
                                    "answer yet")
        elif answer_id is not None:
            answer = step.answers.get(answer_id)
            if answer is None or interruption is not None:
                raise SnapshotError(f"snapshot field path[{i}].answer is not an answer of its "
                                    "step (or comes with an interruption)")
            if item.captures:
                _load_captures(answer.captures, item.captures, captured, i)
        elif interruption not in interruptions or item.captures:
            raise SnapshotError(f"snapshot field path[{i}]: a step left has an answer or an "
                                "interruption of the flow, and an interruption captures nothing")
    current = step_id(snap.step, "step")
    if path[-1].step != current:
        raise SnapshotError("snapshot field step: the path does not end at its step")
    terminal = flow.steps[current].terminal
    if terminal != (snap.ended_at is not None):
        raise SnapshotError("snapshot field ended_at: " + (
            "a call at a terminal step has an end time" if terminal else
            "a call at a live step has no end time"))
    if snap.revision != len(path):
        raise SnapshotError("snapshot field revision does not match the path (one turn, one step)")
    if any(m.entry >= len(path) or m.revision > snap.revision for m in snap.turns) or len(
            {m.id for m in snap.turns}) != len(snap.turns):
        raise SnapshotError("snapshot field turns names turns the call has not taken")
    if snap.outcome is not None and snap.outcome not in flow.dispositions:
        raise SnapshotError("snapshot field outcome is not a disposition the flow declares")
    if not all(_due_ok(f.due) for f in snap.follow_ups):
        raise SnapshotError("snapshot field follow_ups: a due date is not an ISO date or an "
                            "aware ISO datetime")
    return CallState(
        revision=snap.revision, step=current,
        stack=tuple(step_id(s, f"stack[{i}]") for i, s in enumerate(snap.stack)),
        outcome=snap.outcome, ended_at=snap.ended_at, path=tuple(path),
        follow_ups=snap.follow_ups, complaints=snap.complaints, escalations=snap.escalations,
        turns=snap.turns, events=snap.events, captured=captured)


def build(flow: Flow, call_id: str, started_at: datetime, mark: Fingerprint,
          state: CallState) -> Snapshot:
    return Snapshot(
        format=SNAPSHOT_FORMAT, flow=flow.id, version=flow.version, call_id=call_id,
        revision=state.revision, started_at=started_at, ended_at=state.ended_at, step=state.step,
        stack=state.stack, outcome=state.outcome, path=state.path, follow_ups=state.follow_ups,
        complaints=state.complaints, escalations=state.escalations, turns=state.turns,
        events=state.events, context=mark)
