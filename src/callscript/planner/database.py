"""The service's database as the planner's input and output (``callscript plan --db URL``).

Earlier calls are read in bulk, column-wise, from ``calls`` and ``follow_ups`` (the columns
the planner needs are plain, none is encrypted); the worklist is stored in ``worklist``
with its context encrypted by the service's data key, replacing the day's earlier plan in
one transaction. Needs the planner and service extras.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from callscript.planner.inputs import InputError, RecordSource
from callscript.store import worklist_repo
from callscript.store.crypto import KEY_VARIABLE, Cipher, DataKeyError
from callscript.store.db import (
    MIGRATIONS,
    READ_ONLY,
    DatabaseUrlError,
    checked_url,
    make_engine,
)
from callscript.store.urls import masked, shown_url

__all__ = ["check_key", "open_database", "records_from_db", "shown_url", "store_worklist",
           "unknown_agents"]

_UTC = pl.Datetime("us", "UTC")
_FOLLOW_UP = pl.Struct({"kind": pl.String, "due": pl.String})
RECORDS_SCHEMA = {"customer_ref": pl.String(), "flow": pl.String(), "disposition": pl.String(),
                  "ended_at": _UTC, "follow_ups": pl.List(_FOLLOW_UP)}
STORED_COLUMNS = ("agent_id", "customer_ref", "flow", "reason", "priority", "window_start",
                  "window_end", "attempt")


def check_key(engine: Engine, cipher: Cipher) -> None:
    """Refuses to store contexts the service could not read: in the clear (``--dev``) in a
    database with encrypted data, or with a key that decrypts none of its encrypted data."""
    with _database_errors(engine), engine.connect() as conn:
        samples = worklist_repo.encrypted_samples(conn)
    if not samples:
        return  # a new database, or one a --dev service runs on: any key will do
    if not cipher.encrypts:
        raise InputError(f"--db {masked(engine.url)}: the database holds encrypted data (a "
                         f"service with a data key runs on it); set {KEY_VARIABLE} to the "
                         "service's key (--dev would store the contexts in the clear)")
    for stored in samples:
        with suppress(DataKeyError):
            cipher.decrypt(stored)
            return
    raise InputError(f"--db {masked(engine.url)}: {KEY_VARIABLE} does not decrypt this "
                     "database's data; give the key the service runs with")


def unknown_agents(engine: Engine, agent_ids: Iterable[str]) -> list[str]:
    """The agent ids that are not agents of the service (user names with role agent)."""
    with _database_errors(engine), engine.connect() as conn:
        known = worklist_repo.agent_names(conn)
    return sorted(set(agent_ids) - known)


def _head() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def open_database(url: str) -> Engine:
    """An engine on the service's database, checked: reachable and migrated to this version.

    Raises InputError naming the URL (its password masked), never creating a database.
    """
    from alembic.migration import MigrationContext

    shown = shown_url(url)
    try:
        parsed = make_url(checked_url(url))
    except DatabaseUrlError as err:
        raise InputError(str(err)) from None
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        raise InputError(f"--db {shown}: no such database file (start the service on it, or "
                         "run `callscript db upgrade --db URL`)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as err:
        engine.dispose()
        cause = type(getattr(err, "orig", None) or err).__name__
        raise InputError(f"--db {shown}: cannot open the database ({cause})") from None
    head = _head()
    if current != head:
        engine.dispose()
        state = "has no callscript schema" if current is None else \
            f"is at schema version {current}, this callscript needs {head}"
        raise InputError(f"--db {shown}: the database {state}; run `callscript db upgrade --db URL` "
                         "(or start `callscript serve` on it) first")
    return engine


@contextmanager
def _database_errors(engine: Engine) -> Iterator[None]:
    driver_error = engine.dialect.loaded_dbapi.Error  # the driver's cursor is used directly
    try:
        yield
    except (SQLAlchemyError, driver_error) as err:
        cause = type(getattr(err, "orig", None) or err).__name__
        raise InputError(f"--db {masked(engine.url)}: the database failed ({cause})") from None


def _frame(chunks: Iterator[Sequence[Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Fetched tuples, a chunk at a time, as columns (no Python object per row kept)."""
    parts = [pl.DataFrame(chunk, schema=schema, orient="row") for chunk in chunks]
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _instant(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:  # SQLite's stored text: UTC without an offset
        return pl.coalesce(pl.col(column).str.to_datetime(fmt, time_zone="UTC", strict=False)
                           for fmt in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"))
    return pl.from_epoch(pl.col(column), time_unit="us").dt.replace_time_zone("UTC")


def records_from_db(engine: Engine) -> RecordSource:
    """Earlier calls from the service's database: every call with a customer that ended, was
    abandoned or expired (its disposition, else its status) or is still live (counted as an
    attempt made when it last moved, disposition ``live``), with its open follow-ups."""

    stamp: pl.DataType = pl.String() if engine.dialect.name == "sqlite" else pl.Int64()

    def fetch(since: datetime) -> pl.DataFrame:
        # one transaction (PostgreSQL's server-side cursor needs one); on SQLite a reader's
        with _database_errors(engine), engine.execution_options(**{READ_ONLY: True}).begin() as conn:
            found = _frame(worklist_repo.call_columns(conn, since), {
                "id": pl.String(), "customer_ref": pl.String(), "flow": pl.String(),
                "disposition": pl.String(), "ended_at": stamp})
            due = _frame(worklist_repo.follow_up_columns(conn, since), {
                "id": pl.String(), "kind": pl.String(), "due": pl.String()})
        lists = due.group_by("id").agg(pl.struct("kind", "due").alias("follow_ups"))
        return (found.lazy().join(lists.lazy(), on="id", how="left")
                .select("customer_ref", "flow", "disposition",
                        _instant("ended_at", stamp).alias("ended_at"),
                        pl.col("follow_ups").cast(pl.List(_FOLLOW_UP))).collect())

    def read(since: datetime) -> pl.LazyFrame:
        # deferred: the plan collects it together with the customer checks, so the database
        # is read while Polars checks the customer file on the other core
        return pl.defer(lambda: fetch(since), schema=RECORDS_SCHEMA)

    return read


def _rows(worklist: pl.DataFrame, cipher: Cipher, plan_id: str
          ) -> Iterator[list[tuple[Any, ...]]]:
    """The worklist's rows as the table's columns, a chunk at a time, contexts encrypted."""
    seq = 0
    for part in worklist.iter_slices(worklist_repo.CHUNK):
        values = {c: part.get_column(c).to_list() for c in STORED_COLUMNS}
        values["context"] = [cipher.encrypt(c) for c in part.get_column("customer_context").to_list()]
        values["plan_id"] = [plan_id] * part.height
        values["seq"] = list(range(seq + 1, seq + part.height + 1))
        seq += part.height
        yield list(zip(*(values[c] for c in worklist_repo.ROW_COLUMNS), strict=True))


def store_worklist(engine: Engine, cipher: Cipher, worklist: pl.DataFrame, day: date,
                   planned_at: datetime, policy: str, timezone: str, estimated: bool
                   ) -> tuple[str, int]:
    """The worklist (with its ``customer_context`` column) as the day's plan: (plan id, rows).

    In short transactions (see store.worklist_repo): readers switch from the day's old plan
    to this one at once, when it is whole. Raises InputError when a plan of the same day
    made later finished first.
    """
    plan_id = uuid.uuid4().hex
    header = {"id": plan_id, "day": day, "planned_at": planned_at, "policy": policy,
              "timezone": timezone, "calendar_estimated": estimated}
    written = 0
    with _database_errors(engine):
        with engine.begin() as conn:
            worklist_repo.begin_plan(conn, header)
        try:
            for chunk in _rows(worklist, cipher, plan_id):  # encrypted outside the transaction
                with engine.begin() as conn:
                    worklist_repo.insert_rows(conn, chunk)
                written += len(chunk)
            with engine.begin() as conn:
                older = worklist_repo.finish_plan(conn, plan_id, day, written)
        except BaseException:
            with suppress(Exception), engine.begin() as conn:  # the first error is the one to say
                worklist_repo.drop_plan(conn, plan_id)
            raise
        _drop_rows(engine)  # the old plans' rows, and this one's if a newer one won
    if older is None:
        raise InputError(f"{day}: another plan of that day, made later, was stored meanwhile; "
                         "this one was dropped")
    return plan_id, written


def _drop_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        dropped = worklist_repo.dropped_plans(conn)
    for plan_id in dropped:
        with engine.begin() as conn:
            last = worklist_repo.max_seq(conn, plan_id)
        for after in range(0, last, worklist_repo.CHUNK):
            with engine.begin() as conn:
                worklist_repo.delete_rows(conn, plan_id, after)
