"""The stored worklist and the earlier calls the planner reads, over one connection.

As in ``store.repo``, contexts go in and out as stored (encrypted) text: this module
never sees a key. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    type_coerce,
    update,
)

from callscript.store.crypto import PLAIN_PREFIX
from callscript.store.tables import calls, follow_ups, users, worklist, worklist_plans

_PLAN_LOCK = 7_404_303  # pg advisory lock: one plan written at a time (store.db and repo use …301, …302)
CHUNK = 20_000  # rows per executemany / per fetch: bounded memory, few round trips
# the calls the planner counts: every call that happened (live ones are today's attempts)
COUNTED = ("live", "ended", "abandoned", "expired")
ROW_COLUMNS = tuple(c.name for c in worklist.columns)  # plan_id, seq, agent_id, …, context


# Storing a plan takes several short transactions, so a live service's turns never wait
# long for SQLite's write lock: the header goes in first, unfinished (rows NULL: nobody reads
# it), then the rows in chunks, then one transaction finishes it and drops the day's older
# plans, which is when readers switch from the old plan to the new, whole. The old rows
# (invisible by then) are deleted afterwards, in chunks.

def begin_plan(conn: Connection, header: Mapping[str, Any]) -> None:
    conn.execute(insert(worklist_plans).values(**{**header, "rows": None}))


def insert_rows(conn: Connection, chunk: Sequence[tuple[Any, ...]]) -> None:
    """Rows as tuples in ``ROW_COLUMNS`` order, on the driver's cursor (no parameter dict per
    row): executemany on SQLite, COPY on PostgreSQL."""
    names = ", ".join(ROW_COLUMNS)
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {worklist.name} ({names}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(ROW_COLUMNS))
            cursor.executemany(f"INSERT INTO {worklist.name} ({names}) VALUES ({marks})", chunk)
    finally:
        cursor.close()


def finish_plan(conn: Connection, plan_id: str, day: date, written: int) -> list[str] | None:
    """The plan made the day's plan, the day's older plans dropped (their ids returned, for
    their rows to be deleted); None when a newer plan of the day finished first (or dropped
    this one): then this one is dropped."""
    if conn.dialect.name == "postgresql":  # two plans of a day finishing at once: one by one
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PLAN_LOCK})
    mine = conn.execute(select(worklist_plans.c.planned_at)
                        .where(worklist_plans.c.id == plan_id)).scalar_one_or_none()
    of_day = worklist_plans.c.day == day
    newer = None if mine is None else conn.execute(select(worklist_plans.c.id).where(
        of_day, worklist_plans.c.rows.is_not(None), worklist_plans.c.planned_at > mine)).first()
    if mine is None or newer is not None:
        conn.execute(delete(worklist_plans).where(worklist_plans.c.id == plan_id))
        return None
    older = list(conn.execute(select(worklist_plans.c.id).where(
        of_day, worklist_plans.c.id != plan_id, worklist_plans.c.planned_at <= mine)).scalars())
    if older:
        conn.execute(delete(worklist_plans).where(worklist_plans.c.id.in_(older)))
    conn.execute(update(worklist_plans).where(worklist_plans.c.id == plan_id)
                 .values(rows=written))
    return older


def drop_plan(conn: Connection, plan_id: str) -> None:
    """An unfinished plan given up (its rows are deleted with the dropped plans')."""
    conn.execute(delete(worklist_plans).where(worklist_plans.c.id == plan_id,
                                              worklist_plans.c.rows.is_(None)))


def delete_rows(conn: Connection, plan_id: str, after: int) -> int:
    """Up to CHUNK rows of a dropped plan deleted, from seq ``after`` on; how many."""
    return conn.execute(delete(worklist).where(
        worklist.c.plan_id == plan_id, worklist.c.seq > after,
        worklist.c.seq <= after + CHUNK)).rowcount


def max_seq(conn: Connection, plan_id: str) -> int:
    return int(conn.execute(select(func.coalesce(func.max(worklist.c.seq), 0))
                            .where(worklist.c.plan_id == plan_id)).scalar_one())


def dropped_plans(conn: Connection) -> list[str]:
    """Plans whose rows are left without their header (a run stopped before deleting them)."""
    return list(conn.execute(select(worklist.c.plan_id).distinct().where(
        worklist.c.plan_id.not_in(select(worklist_plans.c.id)))).scalars())


def plan_of_day(conn: Connection, day: date) -> Row[Any] | None:
    """The day's plan: the finished one (of several, the one made last)."""
    return conn.execute(select(worklist_plans).where(
        worklist_plans.c.day == day, worklist_plans.c.rows.is_not(None))
        .order_by(worklist_plans.c.planned_at.desc()).limit(1)).first()


def latest_plan(conn: Connection) -> Row[Any] | None:
    """The plan made last (whatever its day): its time zone says what "today" is."""
    return conn.execute(select(worklist_plans).where(worklist_plans.c.rows.is_not(None))
                        .order_by(worklist_plans.c.planned_at.desc()).limit(1)).first()


def plan_rows(conn: Connection, plan_id: str, agent: str | None, after: int,
              limit: int) -> Sequence[Row[Any]]:
    query = (select(worklist).where(and_(worklist.c.plan_id == plan_id, worklist.c.seq > after))
             .order_by(worklist.c.seq).limit(limit))
    if agent is not None:
        query = query.where(worklist.c.agent_id == agent)
    return conn.execute(query).all()


def plan_row(conn: Connection, plan_id: str, seq: int) -> Row[Any] | None:
    return conn.execute(select(worklist).where(and_(worklist.c.plan_id == plan_id,
                                                    worklist.c.seq == seq))).first()


def erase_customer(conn: Connection, customer_ref: str) -> int:
    """A customer's planned rows deleted (their context is personal data)."""
    return conn.execute(delete(worklist).where(worklist.c.customer_ref == customer_ref)).rowcount


def encrypted_samples(conn: Connection) -> list[str]:
    """A stored encrypted value of each table that has one (calls, worklist, users): what a
    data key is tested on before a plan is stored with it."""
    found = []
    for column in (calls.c.context, worklist.c.context, users.c.display_name):
        value = conn.execute(select(column).where(
            column.is_not(None), column.not_like(f"{PLAIN_PREFIX}%")).limit(1)).scalar()
        if value is not None:
            found.append(value)
    return found


def agent_names(conn: Connection) -> set[str]:
    """The user names of the service's agents (an agent is served the rows with their name)."""
    return set(conn.execute(select(users.c.name).where(users.c.role == "agent")).scalars())


# -- what the planner reads -------------------------------------------------------------------
# A million calls as SQLAlchemy Row objects cost as much again as fetching them: these two
# queries run on the driver's own cursor (the same connection and transaction), their rows
# handed over in chunks of plain tuples. The statements are still built from the tables.

def _ended_at(conn: Connection) -> Any:
    """calls.updated_at as the driver gives it cheaply: SQLite's stored text (UTC, no offset),
    PostgreSQL's microseconds since the epoch (no datetime object per row either way)."""
    if conn.dialect.name == "sqlite":
        return type_coerce(calls.c.updated_at, String).label("ended_at")
    return cast(func.extract("epoch", calls.c.updated_at) * 1_000_000, BigInteger).label("ended_at")


def _counted(since: Any) -> Any:
    # the statuses as literals: one parameter in all (the IN list uses the status index)
    statuses: list[Any] = [literal_column(f"'{status}'") for status in COUNTED]
    return and_(calls.c.customer_ref.is_not(None), calls.c.status.in_(statuses),
                calls.c.updated_at >= since)


def _raw_chunks(conn: Connection, query: Any, since: datetime) -> Iterator[Sequence[Any]]:
    compiled = query.compile(dialect=conn.dialect)
    params = dict(compiled.params)
    if conn.dialect.name == "sqlite":  # as SQLAlchemy stores a DATETIME: UTC text
        params["since"] = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        params["since"] = since
    positions = compiled.positiontup or []
    args: Any = tuple(params[k] for k in positions) if compiled.positional else params
    driver = conn.connection.driver_connection
    assert driver is not None
    # PostgreSQL: a server-side cursor, so the client holds one chunk at a time
    cursor = driver.cursor() if conn.dialect.name == "sqlite" else driver.cursor(name="planner")
    try:
        cursor.execute(str(compiled), args)
        while rows := cursor.fetchmany(CHUNK):
            yield rows
    finally:
        cursor.close()


def call_columns(conn: Connection, since: datetime) -> Iterator[Sequence[Any]]:
    """(id, customer_ref, flow, disposition, ended_at) of the counted calls, in chunks. The
    disposition is the call's, ``live`` for a call in progress, else its status."""
    disposition = case((calls.c.status == literal_column("'live'"), literal_column("'live'")),
                       else_=func.coalesce(calls.c.outcome, calls.c.status))
    query = select(calls.c.id, calls.c.customer_ref, calls.c.flow, disposition,
                   _ended_at(conn)).where(_counted(bindparam("since")))
    yield from _raw_chunks(conn, query, since)


def follow_up_columns(conn: Connection, since: datetime) -> Iterator[Sequence[Any]]:
    """(call_id, kind, due) of the open follow-ups of the counted calls, in chunks."""
    query = (select(follow_ups.c.call_id, follow_ups.c.kind, follow_ups.c.due)
             .join(calls, calls.c.id == follow_ups.c.call_id)
             .where(_counted(bindparam("since")), follow_ups.c.done_at.is_(None),
                    follow_ups.c.due.is_not(None)))
    yield from _raw_chunks(conn, query, since)
