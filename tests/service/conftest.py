"""Fixtures for the service: each test gets a fresh database, SQLite or PostgreSQL."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from callscript.service.app import create_app
from callscript.service.auth import hash_token, new_token
from callscript.service.library import Library
from callscript.service.state import Service
from callscript.store import repo
from callscript.store.crypto import Cipher, new_key
from callscript.store.db import make_engine, normalise_url, upgrade
from tests.service import postgres

CUSTOMER = {"name": "王", "title": "先生", "phone": "13812345678", "reference": "C-1001"}
DEPLOYMENT = {"deployment": {"carrier": "联通", "hotline": "10010", "service_centre": "西湖区"}}
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed (Debian package `postgresql`; "
                    "scripts/setup-system.sh installs it)")
    with postgres.temporary_server() as url:
        yield url


def _fresh_postgres(admin_url: str) -> str:
    name = f"callscript_test_{next(_counter)}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return admin_url.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callscript.db'}"
    return _fresh_postgres(request.getfixturevalue("postgres_admin_url"))


class Clock:
    """The service's clock, moved by tests (expiry, key retention)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@dataclass
class Env:
    """A running service on a fresh database, with one user of each role and a second agent."""

    svc: Service
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    clock: Clock
    keys: list[str] = field(default_factory=list)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def start(self, user: str = "agent", flow: str = "first_visit", **extra: Any) -> Any:
        body = {"flow": flow, "context": {"customer": CUSTOMER}, **extra}
        response = self.client.post("/v1/calls", json=body, headers=self.auth(user))
        assert response.status_code == 201, response.text
        return response.json()

    def turn(self, call: Any, body: dict[str, Any], user: str = "agent",
             **headers: str) -> Any:
        return self.client.post(f"/v1/calls/{call['id']}/turns", json=body,
                                headers={**self.auth(user), "If-Match": f'"{call["revision"]}"',
                                         **headers})


USERS = {"agent": ("A0107", "agent", "李娜", "0571-86001234"),
         "other_agent": ("A0200", "agent", "张伟", "0571-86005678"),
         "supervisor": ("S1", "supervisor", None, None),
         "integrator": ("crm", "integrator", None, None)}


def add_users(engine: Engine, cipher: Cipher) -> dict[str, str]:
    tokens = {}
    with engine.begin() as conn:
        for label, (name, role, display, phone) in USERS.items():
            tokens[label] = new_token()
            repo.add_user(conn, name, role, hash_token(tokens[label]),
                          cipher.maybe_encrypt(display), cipher.maybe_encrypt(phone),
                          datetime.now(UTC))
    return tokens


@contextmanager
def open_env(db_url: str, library: Library | None = None,
             deployment: dict[str, Any] | None = None) -> Iterator[Env]:
    """A service on a fresh database: the telecom library and DEPLOYMENT unless told."""
    keys = [new_key()]
    engine = make_engine(db_url)
    upgrade(engine)
    cipher = Cipher(keys)
    clock = Clock()
    svc = Service(engine=engine, cipher=cipher, library=library or Library(),
                  deployment=DEPLOYMENT if deployment is None else deployment, clock=clock)
    tokens = add_users(engine, cipher)
    app = create_app(svc, sweep=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Env(svc, app, client, tokens, clock, keys)
    engine.dispose()


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    with open_env(db_url) as made:
        yield made


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    """``app`` behind a real uvicorn in a thread, on a free loopback port, once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, server.servers[0].sockets[0].getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


@pytest.fixture
def live(env: Env) -> Iterator[LiveServer]:
    """The same app behind a real uvicorn on a loopback port, for concurrent clients."""
    server, thread, port = serve_in_thread(env.app)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(10)


def walk_to_end(env: Env, call: Any, answers: list[str],
                captures: Callable[[str], dict[str, Any]] | None = None) -> Any:
    for answer in answers:
        response = env.turn(call, {"type": "answer", "answer": answer,
                                   "captures": captures(answer) if captures else {}})
        assert response.status_code == 200, response.text
        call = response.json()
    return call


USER_PHONE = "13600002222"


def call_put_on_hold_too_long(env: Env) -> Any:
    """A call where the phone's user left their number (not the holder: a sensitive capture),
    then waited over 3 minutes: it ends with a callback follow-up."""
    from datetime import timedelta

    call = walk_to_end(env, env.start(), ["answered", "confirmed"])
    response = env.turn(call, {"type": "interrupt", "interruption": "not_holder"})
    assert response.status_code == 200, response.text
    call = walk_to_end(env, response.json(), ["gives", "not_now"],
                       lambda answer: {"user_phone": USER_PHONE} if answer == "gives"
                       else {"user_identity_note": "户主的儿子"})
    response = env.turn(call, {"type": "hold"})
    assert response.status_code == 200, response.text
    call = response.json()
    assert call["prompt"]["on_hold"] and call["prompt"]["hold"]["limit_seconds"] == 180
    env.clock.now += timedelta(minutes=4)
    response = env.turn(call, {"type": "resume"})
    assert response.status_code == 200, response.text
    call = response.json()
    assert call["prompt"]["step"] == "hold.call_back"
    return walk_to_end(env, call, ["agrees"])
