"""Tokens remembered by a worker on PostgreSQL, and forgotten when users change.

A worker remembers whose a token is only while it listens to the users table's
announcements (migration 0003, service/tokens.py): these tests drive the real
listener against a real server, and cut its connection as a restart would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from callscript.service.auth import User, hash_token
from callscript.service.tokens import APPLICATION
from callscript.store import repo
from tests.service.conftest import Env, _fresh_postgres, open_env


@pytest.fixture
def pg(postgres_admin_url: str) -> Iterator[Env]:
    with open_env(_fresh_postgres(postgres_admin_url)) as made:
        yield made


def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.01)


def test_a_token_is_remembered_and_forgotten_when_its_user_is_removed(pg: Env) -> None:
    users, token_hash = pg.svc.users, hash_token(pg.tokens["agent"])
    eventually(lambda: users.listening)
    assert users.remembered(token_hash) is None
    assert pg.client.get("/v1/calls", headers=pg.auth("agent")).status_code == 200
    assert users.remembered(token_hash) == User("A0107", "agent")  # no database read next time
    with pg.svc.engine.begin() as conn:
        assert repo.remove_user(conn, "A0107")
    eventually(lambda: users.remembered(token_hash) is None)
    assert pg.client.get("/v1/calls", headers=pg.auth("agent")).status_code == 401


def test_a_change_made_in_plain_sql_is_heard(pg: Env) -> None:
    users, token_hash = pg.svc.users, hash_token(pg.tokens["agent"])
    eventually(lambda: users.listening)
    assert pg.client.get("/v1/calls", headers=pg.auth("agent")).status_code == 200
    with pg.svc.engine.begin() as conn:  # an operator's SQL, not `callscript users`
        conn.execute(text("UPDATE users SET role = 'supervisor' WHERE name = 'A0107'"))
    eventually(lambda: users.remembered(token_hash) is None)
    started = pg.client.post("/v1/calls", json={"flow": "first_visit"},
                             headers=pg.auth("agent"))
    assert started.status_code == 403  # a supervisor now: it starts no calls


def test_without_its_listener_a_worker_remembers_nothing(pg: Env) -> None:
    users, token_hash = pg.svc.users, hash_token(pg.tokens["agent"])
    eventually(lambda: users.listening)
    assert pg.client.get("/v1/calls", headers=pg.auth("agent")).status_code == 200
    assert users.remembered(token_hash) is not None
    with pg.svc.engine.connect() as conn:  # as a restart of the database would
        cut = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = :name"), {"name": APPLICATION})
        assert cut.scalar_one()
    eventually(lambda: users.remembered(token_hash) is None)  # forgotten when it noticed
    with pg.svc.engine.begin() as conn:  # while it may still be reconnecting
        assert repo.remove_user(conn, "A0107")
    assert pg.client.get("/v1/calls", headers=pg.auth("agent")).status_code == 401
    eventually(lambda: users.listening)  # it comes back by itself
    assert pg.client.get("/v1/calls", headers=pg.auth("supervisor")).status_code == 200
    assert users.remembered(hash_token(pg.tokens["supervisor"])) is not None


def test_sqlite_reads_users_on_every_request(tmp_path: Path) -> None:
    with open_env(f"sqlite:///{tmp_path / 'callscript.db'}") as env:
        assert env.client.get("/v1/calls", headers=env.auth("agent")).status_code == 200
        assert not env.svc.users.listening
        assert env.svc.users.remembered(hash_token(env.tokens["agent"])) is None
