"""Engines for SQLite and PostgreSQL, and running the migrations."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from callscript.store.urls import shown_url

DEFAULT_URL = "sqlite:///callscript.db"  # in the working folder: the embedded default
MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "callscript_read_only"  # an execution option: this transaction only reads
_MIGRATION_LOCK = 7_404_301  # a pg_advisory_lock id: one migrating process at a time
_HOLDS_WRITERS = "callscript_holds_writers"  # in a SQLite connection's info: it holds the lock
_WRITER_WAIT = 30.0  # seconds, as SQLite's busy timeout


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class DatabaseUrlError(ValueError):
    """A database URL the service cannot use; the message shows it with its password masked."""


def checked_url(url: str) -> str:
    """The URL, normalised (postgresql:// means psycopg 3), if the service can use it; else
    DatabaseUrlError saying why, with the URL masked."""
    usage = "give sqlite:///FILE or postgresql://USER@HOST/NAME"
    if not url.strip():
        raise DatabaseUrlError(f"--db is empty: {usage}")
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise DatabaseUrlError(f"--db: not a database URL; {usage}") from None
    except ValueError:  # make_url's int() of the port
        raise DatabaseUrlError(f"--db: the URL's port is not a number; {usage}") from None
    shown = shown_url(url)
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise DatabaseUrlError(f"--db {shown}: not a database URL the service opens; the service "
                               f"runs on SQLite or PostgreSQL (through psycopg 3): {usage}")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise DatabaseUrlError(f"--db {shown}: an in-memory database is not the service's "
                                   "(it lasts one process); give the file: sqlite:///FILE")
        if parsed.query:  # ?mode=ro and the like are not how the service opens its file
            raise DatabaseUrlError(f"--db {shown}: a SQLite URL takes no options here "
                                   f"({', '.join(sorted(parsed.query))}); give sqlite:///FILE")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not is_sqlite(url):
        # No pre-ping (a round trip per request, a fifth of a turn's): after a server restart
        # the first statement on a dead connection fails, the request is 503 with
        # Retry-After, and SQLAlchemy then drops every connection made before the failure.
        return create_engine(url, pool_size=10, max_overflow=10)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below through
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # This process's writers queue here rather than in SQLite's busy handler, which sleeps
    # in steps of up to 100 ms and made the slowest turns wait that long under load.
    # Other processes (the CLI) still meet the busy timeout. A writer that cannot get it in
    # time goes on to SQLite's own lock, so a lost release can slow writes, never stop them.
    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # WAL: a reader needs no lock, waits for none
            return
        connection.info[_HOLDS_WRITERS] = writers.acquire(timeout=_WRITER_WAIT)
        try:
            # the write lock at the start: a read and its conditional write are atomic, and
            # two writers never deadlock upgrading from a shared lock
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop(_HOLDS_WRITERS, False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


def autocommit(engine: Engine) -> Engine:
    """PostgreSQL in autocommit: each statement its own transaction, without the round trips
    of BEGIN and COMMIT (for reads of one statement, and writes made of one)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def writer(engine: Engine) -> Engine:
    """The engine ``store.writes.commit`` writes with: on PostgreSQL in autocommit (its write
    is one statement), elsewhere the engine itself (a transaction of several)."""
    return autocommit(engine) if engine.dialect.name == "postgresql" else engine


def reader(engine: Engine) -> Engine:
    """The engine for reads of one statement (token lookups, GETs): on SQLite they do not
    queue for the write lock behind every turn; on PostgreSQL they run in autocommit,
    without the round trips of BEGIN and COMMIT."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return autocommit(engine)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (what `serve` does on start)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # several workers or hosts may start at once
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
