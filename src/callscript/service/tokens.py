"""Whose a bearer token is: read from the users table, remembered only while it is safe.

A worker remembers a token's user only while it listens to PostgreSQL's announcements
of every change to the users table (a trigger, migration 0004). Any change forgets
everything, so a removed or replaced token stops working in every worker as soon as
the change commits and its notification arrives (milliseconds). While the listener is
not connected (starting, or the database restarting), and always on SQLite, every
request reads the table: revocation never waits on a cache.

A lookup that raced a change cannot store a stale answer: each remembers the
generation it read under and stores nothing if a change came in between.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from callscript.service.auth import User
from callscript.store import repo
from callscript.store.db import reader

CHANNEL = "callscript_users"  # as migration 0004 announces
APPLICATION = "callscript-users-listener"  # the listener's name in pg_stat_activity
MAX_REMEMBERED = 10_000  # tokens; past it, forget all and start again
_log = logging.getLogger("callscript.service")


class Users:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._reads = reader(engine)
        self._known: dict[str, User] = {}
        self._generation = 0
        self._listening = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lookups ------------------------------------------------------------------------

    def remembered(self, token_hash: str) -> User | None:
        """The user if remembered (no I/O: safe on the event loop), else None."""
        return self._known.get(token_hash) if self._listening else None

    def lookup(self, token_hash: str) -> User | None:
        """The token's user, or None when no user has it (a database read unless remembered)."""
        if (user := self.remembered(token_hash)) is not None:
            return user
        generation = self._generation
        with self._reads.begin() as conn:
            row = repo.user_by_token(conn, token_hash)
        if row is None:
            return None
        user = User(row.name, row.role)
        with self._lock:
            if self._listening and generation == self._generation:
                if len(self._known) >= MAX_REMEMBERED:
                    self._known.clear()
                self._known[token_hash] = user
        return user

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._known.clear()

    def _set_listening(self, on: bool) -> None:
        with self._lock:
            self._generation += 1
            self._known.clear()
            self._listening = on

    # -- the listener (PostgreSQL) ----------------------------------------------------------

    def start(self) -> None:
        """Listen for changes to users, in a thread; nothing to do on SQLite."""
        if self._engine.dialect.name != "postgresql" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._listen, name="callscript-users",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def listening(self) -> bool:
        return self._listening

    def _listen(self) -> None:
        import psycopg

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        warned = False  # once per outage, not once a second
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5,
                                     application_name=APPLICATION) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._set_listening(True)  # from here on every change is heard
                    if warned:
                        _log.warning("listening for changes to users again")
                        warned = False
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.forget()
                        conn.execute("SELECT 1")  # a dead connection fails here, within a second
            except psycopg.Error as err:
                if not warned:
                    _log.warning("not listening for changes to users (%s): reading them on "
                                 "every request until the database answers",
                                 type(err).__name__)
                    warned = True
            finally:
                self._set_listening(False)
            self._stop.wait(1.0)
