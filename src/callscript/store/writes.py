"""The one write of a start or a turn: the call's row, its follow-ups, its idempotency key
and its events, all or nothing.

On PostgreSQL the write is a single statement in autocommit: the call's insert or
conditional update, and the other rows inserted only if it took effect (data-modifying
CTEs reading ``moved``). One round trip, and no BEGIN or COMMIT round trips: a turn
costs the worker its token lookup, one read and this write. The outbox's advisory lock
is taken inside the statement, before the events draw their ids, and held to its
commit, so the event feed still sees ids commit in order (see ``repo.append_events``).

Elsewhere (SQLite) the same rows are written statement by statement in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, text

from callscript.store import repo

EventRow = tuple[int, str, str, str | None]  # seq, kind, step, stored detail


@dataclass(frozen=True)
class KeyRow:
    """An idempotency key with the whole stored (encrypted) response."""

    scope: str
    key: str
    digest: str
    response: str


@dataclass(frozen=True)
class CallWrite:
    """What one start (``insert``) or turn (``update`` at ``revision``) writes."""

    call_id: str
    agent: str
    now: datetime
    insert: Mapping[str, Any] | None = None  # the new call's row
    update: Mapping[str, Any] | None = None  # the turn's new values (revision is bumped)
    revision: int = 0  # the revision the turn was taken at
    key: KeyRow | None = None
    follow_ups: Sequence[Mapping[str, Any]] = field(default_factory=list)  # event details
    events: Sequence[EventRow] = field(default_factory=list)


def commit(engine: Engine, write: CallWrite) -> bool:
    """Write it all, or nothing: False when a turn's call had moved past ``revision``.
    A start whose key a concurrent retry stored first raises IntegrityError.
    ``engine`` is ``store.db.writer(the service's engine)``."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            statement = _PG_START if write.insert is not None else _PG_TURN
            return bool(conn.execute(statement, _pg_params(write)).scalar_one())
    with engine.begin() as conn:
        if write.insert is not None:
            repo.insert_call(conn, **write.insert)
        elif write.update is None or not repo.update_call(conn, write.call_id, write.revision,
                                                           **write.update):
            return False
        for item in write.follow_ups:
            repo.add_follow_up(conn, write.call_id, write.agent, item, write.now)
        if write.key is not None:
            k = write.key
            repo.put_key(conn, k.scope, k.key, k.digest, write.call_id, k.response, write.now)
        repo.append_events(conn, write.call_id, write.events, write.now)
        return True


def _due_day(due: Any) -> date | None:
    return date.fromisoformat(due[:10]) if isinstance(due, str) else None


def _pg_params(write: CallWrite) -> dict[str, Any]:
    key = write.key
    params: dict[str, Any] = {
        "call_id": write.call_id, "agent": write.agent, "now": write.now,
        "revision": write.revision, "lock": repo.OUTBOX_LOCK,
        "key_scope": key.scope if key else None, "key": key.key if key else None,
        "key_digest": key.digest if key else None, "key_response": key.response if key else None,
        "f_kind": [f["kind"] for f in write.follow_ups],
        "f_due": [f.get("due") for f in write.follow_ups],
        "f_due_day": [_due_day(f.get("due")) for f in write.follow_ups],
        "f_estimated": [bool(f.get("estimated")) for f in write.follow_ups],
        "f_note": [f.get("note", "") for f in write.follow_ups],
        "f_step": [f["step"] for f in write.follow_ups],
        "e_seq": [e[0] for e in write.events], "e_kind": [e[1] for e in write.events],
        "e_step": [e[2] for e in write.events], "e_detail": [e[3] for e in write.events],
    }
    row = write.insert if write.insert is not None else write.update
    assert row is not None
    params.update({f"c_{name}": value for name, value in row.items()})
    return params


# The rows that follow the call's own: ``moved`` has one row when the call was written.
_FOLLOWERS = """
, kept AS (
    INSERT INTO idempotency (scope, key, digest, call_id, response, created_at)
    SELECT CAST(:key_scope AS text), CAST(:key AS text), CAST(:key_digest AS text), :call_id,
        CAST(:key_response AS text), :now FROM moved
    WHERE CAST(:key AS text) IS NOT NULL
), followed AS (
    INSERT INTO follow_ups (call_id, agent, kind, due, due_day, estimated, note, step, created_at)
    SELECT :call_id, :agent, f.kind, f.due, f.due_day, f.estimated, f.note, f.step, :now
    FROM moved, unnest(CAST(:f_kind AS text[]), CAST(:f_due AS text[]),
                       CAST(:f_due_day AS date[]), CAST(:f_estimated AS boolean[]),
                       CAST(:f_note AS text[]), CAST(:f_step AS text[]))
         AS f(kind, due, due_day, estimated, note, step)
), locked AS (
    SELECT pg_advisory_xact_lock(:lock) FROM moved
), appended AS (
    -- a row exists only once ``locked`` has the lock: ids are drawn under it
    INSERT INTO events (call_id, seq, kind, step, detail, at)
    SELECT :call_id, e.seq, e.kind, e.step, e.detail, :now
    FROM locked, unnest(CAST(:e_seq AS integer[]), CAST(:e_kind AS text[]),
                        CAST(:e_step AS text[]), CAST(:e_detail AS text[]))
         AS e(seq, kind, step, detail)
)
SELECT count(*) FROM moved
"""

_PG_TURN = text("""
WITH moved AS (
    UPDATE calls SET revision = revision + 1, status = :c_status, step = :c_step,
        outcome = :c_outcome, event_seq = :c_event_seq, snapshot = :c_snapshot,
        updated_at = :c_updated_at
    WHERE id = :call_id AND revision = :revision
    RETURNING id
)""" + _FOLLOWERS)

_PG_START = text("""
WITH moved AS (
    INSERT INTO calls (id, flow, flow_version, agent, status, step, outcome, revision,
        event_seq, customer_ref, context, snapshot, erased_record, created_at, updated_at)
    VALUES (:call_id, :c_flow, :c_flow_version, :c_agent, :c_status, :c_step, :c_outcome,
        :c_revision, :c_event_seq, :c_customer_ref, :c_context, :c_snapshot, :c_erased_record,
        :c_created_at, :c_updated_at)
    RETURNING id
)""" + _FOLLOWERS)
