"""Repository functions over one connection; the caller owns the transaction.

Encrypted columns are passed in and out as stored text: encryption is the
caller's (``store.crypto.Cipher``), so this module never sees a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from callscript.store.tables import calls, events, follow_ups, idempotency, users

OUTBOX_LOCK = 7_404_302  # pg advisory lock: events commit in the order of their ids


# -- users --------------------------------------------------------------------------------

def add_user(conn: Connection, name: str, role: str, token_hash: str, display_name: str | None,
             phone: str | None, now: datetime) -> None:
    conn.execute(insert(users).values(name=name, role=role, token_hash=token_hash,
                                      display_name=display_name, phone=phone, created_at=now))


# The statements of every request are built once: building one costs more than running it
_USER_BY_TOKEN = select(users).where(users.c.token_hash == bindparam("token_hash"))
_USER_BY_NAME = select(users).where(users.c.name == bindparam("name"))


def user_by_token(conn: Connection, token_hash: str) -> Row[Any] | None:
    return conn.execute(_USER_BY_TOKEN, {"token_hash": token_hash}).first()


def user_by_name(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(_USER_BY_NAME, {"name": name}).first()


def list_users(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(users).order_by(users.c.name)).all()


def remove_user(conn: Connection, name: str) -> bool:
    return conn.execute(delete(users).where(users.c.name == name)).rowcount == 1


# -- calls --------------------------------------------------------------------------------

def insert_call(conn: Connection, **values: Any) -> None:
    conn.execute(insert(calls).values(**values))


def get_call(conn: Connection, call_id: str) -> Row[Any] | None:
    return conn.execute(_GET_CALL, {"call_id": call_id}).first()


_GET_CALL = select(calls).where(calls.c.id == bindparam("call_id"))
_CALL_WITH_KEY = (
    select(calls, idempotency.c.digest.label("key_digest"),
           idempotency.c.response.label("key_response"),
           idempotency.c.created_at.label("key_created_at"))
    .select_from(calls.outerjoin(idempotency, and_(idempotency.c.scope == calls.c.id,
                                                   idempotency.c.key == bindparam("key"))))
    .where(calls.c.id == bindparam("call_id")))


def call_with_key(conn: Connection, call_id: str, key: str | None) -> Row[Any] | None:
    """The call and, when ``key`` names one of its idempotency keys, that key's digest,
    response and time (key_* columns, NULL otherwise): a turn's one read."""
    return conn.execute(_CALL_WITH_KEY, {"call_id": call_id, "key": key}).first()


def update_call(conn: Connection, call_id: str, expected_revision: int, **values: Any) -> bool:
    """The conditional write of a turn: False when another turn moved the call first."""
    result = conn.execute(update(calls).where(and_(calls.c.id == call_id,
                                                   calls.c.revision == expected_revision))
                          .values(revision=expected_revision + 1, **values))
    return result.rowcount == 1


def list_calls(conn: Connection, agent: str | None, status: str | None, after: str | None,
               limit: int) -> Sequence[Row[Any, Any, Any]]:
    columns = [c for c in calls.c if c.name not in ("context", "snapshot", "erased_record")]
    query = select(*columns).order_by(calls.c.id).limit(limit)
    if agent is not None:
        query = query.where(calls.c.agent == agent)
    if status is not None:
        query = query.where(calls.c.status == status)
    if after is not None:
        query = query.where(calls.c.id > after)
    return conn.execute(query).all()


def idle_calls(conn: Connection, before: datetime, limit: int) -> Sequence[Row[Any, Any, Any]]:
    return conn.execute(select(calls.c.id, calls.c.revision, calls.c.step)
                        .where(and_(calls.c.status == "live", calls.c.updated_at < before))
                        .order_by(calls.c.updated_at).limit(limit)).all()


def calls_of_customer(conn: Connection, customer_ref: str) -> Sequence[Row[Any]]:
    return conn.execute(select(calls).where(calls.c.customer_ref == customer_ref)).all()


# -- events (the outbox) ------------------------------------------------------------------

def append_events(conn: Connection, call_id: str,
                  items: Iterable[tuple[int, str, str, str | None]], at: datetime) -> None:
    """Events as (seq, kind, step, stored detail): the runtime numbers them 1, 2, … per call."""
    rows = [{"call_id": call_id, "seq": seq, "kind": kind, "step": step, "detail": detail,
             "at": at} for seq, kind, step, detail in items]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # ids are taken under a lock held to commit, so a feed reader that has seen id n
        # never later finds a smaller id committed (SQLite has one writer anyway)
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": OUTBOX_LOCK})
    conn.execute(insert(events), rows)


def list_events(conn: Connection, after: int, limit: int, agent: str | None = None
                ) -> Sequence[Row[Any]]:
    query = select(events).where(events.c.id > after).order_by(events.c.id).limit(limit)
    if agent is not None:
        query = query.where(events.c.call_id.in_(select(calls.c.id).where(calls.c.agent == agent)))
    return conn.execute(query).all()


def erase_event_details(conn: Connection, call_id: str) -> None:
    conn.execute(update(events).where(events.c.call_id == call_id).values(detail=None))


# -- follow-ups ---------------------------------------------------------------------------

def due_day(due: Any) -> date | None:
    """The day of a follow-up's due date or agreed time, as the record has it (ISO text)."""
    return date.fromisoformat(due[:10]) if isinstance(due, str) else None


def add_follow_up(conn: Connection, call_id: str, agent: str, item: Mapping[str, Any],
                  now: datetime) -> None:
    due = item.get("due")
    conn.execute(insert(follow_ups).values(
        call_id=call_id, agent=agent, kind=item["kind"], due=due, due_day=due_day(due),
        estimated=bool(item.get("estimated")), note=item.get("note", ""), step=item["step"],
        created_at=now))


def list_follow_ups(conn: Connection, agent: str | None, due_before: date | None,
                    after: int, limit: int, include_done: bool) -> Sequence[Row[Any]]:
    query = select(follow_ups).where(follow_ups.c.id > after).order_by(follow_ups.c.id).limit(limit)
    if agent is not None:
        query = query.where(follow_ups.c.agent == agent)
    if due_before is not None:
        query = query.where(follow_ups.c.due_day < due_before)
    if not include_done:
        query = query.where(follow_ups.c.done_at.is_(None))
    return conn.execute(query).all()


def get_follow_up(conn: Connection, follow_up_id: int) -> Row[Any] | None:
    return conn.execute(select(follow_ups).where(follow_ups.c.id == follow_up_id)).first()


def mark_follow_up_done(conn: Connection, follow_up_id: int, by: str, now: datetime) -> None:
    conn.execute(update(follow_ups).where(and_(follow_ups.c.id == follow_up_id,
                                                follow_ups.c.done_at.is_(None)))
                 .values(done_at=now, done_by=by))


# -- idempotency keys ---------------------------------------------------------------------

_GET_KEY = select(idempotency).where(and_(idempotency.c.scope == bindparam("scope"),
                                          idempotency.c.key == bindparam("key")))


def get_key(conn: Connection, scope: str, key: str) -> Row[Any] | None:
    """The key, however old: the caller tells a live one from one past its time."""
    return conn.execute(_GET_KEY, {"scope": scope, "key": key}).first()


def put_key(conn: Connection, scope: str, key: str, digest: str, call_id: str, response: str,
            now: datetime) -> None:
    conn.execute(insert(idempotency).values(scope=scope, key=key, digest=digest, call_id=call_id,
                                            response=response, created_at=now))


def drop_key(conn: Connection, scope: str, key: str) -> None:
    """A key past its time, before its name is used again (keys are kept 24 hours)."""
    conn.execute(delete(idempotency).where(and_(idempotency.c.scope == scope,
                                                idempotency.c.key == key)))


def purge_keys(conn: Connection, before: datetime) -> int:
    return conn.execute(delete(idempotency).where(idempotency.c.created_at < before)).rowcount


def delete_keys(conn: Connection, call_id: str) -> None:
    conn.execute(delete(idempotency).where(idempotency.c.call_id == call_id))


def count(conn: Connection, table: str) -> int:
    tables = {"calls": calls, "events": events, "follow_ups": follow_ups}
    return int(conn.execute(select(func.count()).select_from(tables[table])).scalar_one())
