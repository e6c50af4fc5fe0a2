"""The one write of a start or a turn: the call's row, its follow-ups, its idempotency key
and its events, all or nothing.

On PostgreSQL the write is a single statement in autocommit: the call's insert or
conditional update, and the other rows inserted only if it took effect (data-modifying
CTEs reading ``moved``). One round trip, and no BEGIN or COMMIT round trips: a turn
costs the worker one read and this write (and a token lookup when the worker does not
remember the token: service/tokens.py). The outbox's advisory lock
is taken inside the statement, before the events draw their ids, and held to its
commit, so the event feed still sees ids commit in order (see ``repo.append_events``).

Elsewhere (SQLite) the same rows are written statement by statement in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Engine

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
            return bool(conn.exec_driver_sql(statement, _pg_params(write)).scalar_one())
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


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _pg_params(write: CallWrite) -> dict[str, Any]:
    """The statement's parameters: the rows that follow the call's own travel as one JSON
    text each (json_to_recordset), cheaper to send than a parameter per column."""
    key = write.key
    keys = [{"scope": key.scope, "key": key.key, "digest": key.digest,
             "response": key.response}] if key is not None else []
    follow_ups = [{"kind": f["kind"], "due": f.get("due"), "due_day": _iso(repo.due_day(f.get("due"))),
                   "estimated": bool(f.get("estimated")), "note": f.get("note", ""),
                   "step": f["step"]} for f in write.follow_ups]
    events = [{"seq": seq, "kind": kind, "step": step, "detail": detail}
              for seq, kind, step, detail in write.events]
    row = write.insert if write.insert is not None else write.update
    assert row is not None
    return {"call_id": write.call_id, "agent": write.agent, "now": write.now,
            "revision": write.revision, "lock": repo.OUTBOX_LOCK,
            "keys": orjson.dumps(keys).decode(), "follow_ups": orjson.dumps(follow_ups).decode(),
            "events": orjson.dumps(events).decode(),
            **{f"c_{name}": value for name, value in row.items()}}


# The rows that follow the call's own: ``moved`` has one row when the call was written.
# Run with exec_driver_sql (psycopg's %(name)s): no SQLAlchemy parameter processing.
_FOLLOWERS = """
, kept AS (
    INSERT INTO idempotency (scope, key, digest, call_id, response, created_at)
    SELECT k.scope, k.key, k.digest, %(call_id)s, k.response, %(now)s
    FROM moved, json_to_recordset(%(keys)s::json)
         AS k(scope text, key text, digest text, response text)
), followed AS (
    INSERT INTO follow_ups (call_id, agent, kind, due, due_day, estimated, note, step, created_at)
    SELECT %(call_id)s, %(agent)s, f.kind, f.due, f.due_day, f.estimated, f.note, f.step, %(now)s
    FROM moved, json_to_recordset(%(follow_ups)s::json)
         AS f(kind text, due text, due_day date, estimated boolean, note text, step text)
), locked AS (
    SELECT pg_advisory_xact_lock(%(lock)s) FROM moved
), appended AS (
    -- a row exists only once ``locked`` has the lock: ids are drawn under it
    INSERT INTO events (call_id, seq, kind, step, detail, at)
    SELECT %(call_id)s, e.seq, e.kind, e.step, e.detail, %(now)s
    FROM locked, json_to_recordset(%(events)s::json)
         AS e(seq integer, kind text, step text, detail text)
)
SELECT count(*) FROM moved
"""

_PG_TURN = """
WITH moved AS (
    UPDATE calls SET revision = revision + 1, status = %(c_status)s, step = %(c_step)s,
        outcome = %(c_outcome)s, event_seq = %(c_event_seq)s, snapshot = %(c_snapshot)s,
        updated_at = %(c_updated_at)s
    WHERE id = %(call_id)s AND revision = %(revision)s
    RETURNING id
)""" + _FOLLOWERS

_PG_START = """
WITH moved AS (
    INSERT INTO calls (id, flow, flow_version, agent, status, step, outcome, revision,
        event_seq, customer_ref, context, snapshot, erased_record, created_at, updated_at)
    VALUES (%(call_id)s, %(c_flow)s, %(c_flow_version)s, %(c_agent)s, %(c_status)s,
        %(c_step)s, %(c_outcome)s, %(c_revision)s, %(c_event_seq)s, %(c_customer_ref)s,
        %(c_context)s, %(c_snapshot)s, %(c_erased_record)s, %(c_created_at)s, %(c_updated_at)s)
    RETURNING id
)""" + _FOLLOWERS
