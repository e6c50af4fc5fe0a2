"""SQLite: this process's writers take turns on a lock, released however a transaction ends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from callscript.store.db import make_engine, reader, upgrade


def _write_in_thread(engine: object) -> bool:
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("INSERT INTO users (name, role, token_hash, created_at) "
                              "VALUES ('B', 'agent', 'h2', '2026-11-26')"))
        done.set()

    worker = threading.Thread(target=write, daemon=True)
    worker.start()
    worker.join(10)  # the lock's own wait is 30 s: a lock left held would show here
    return done.is_set()


def test_a_rolled_back_write_releases_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with pytest.raises(RuntimeError), engine.begin():
        raise RuntimeError("a turn refused half-way")
    assert _write_in_thread(engine)


def test_a_failed_statement_releases_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with pytest.raises(Exception, match="no such table"), engine.begin() as conn:
        conn.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert _write_in_thread(engine)


def test_a_writer_waits_for_the_one_before_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, role, token_hash, created_at) "
                          "VALUES ('A', 'agent', 'h1', '2026-11-26')"))
        assert not _write_in_thread_briefly(engine)  # queued behind this transaction
    with reader(engine).begin() as conn:  # reads never queue
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 1


def _write_in_thread_briefly(engine: object) -> bool:
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("SELECT 1"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(0.5)
