"""Every status of the error table, as problem+json naming the field and never a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from callscript.service.app import create_app
from callscript.service.library import Library
from callscript.service.state import Service
from callscript.store.crypto import Cipher
from callscript.store.db import make_engine
from tests.service.conftest import CUSTOMER, Env, walk_to_end

SECRET_PHONE = "139-NOT-A-PHONE-8888"


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.text
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def test_unknown_flow_is_404(env: Env) -> None:
    problem(env.client.post("/v1/calls", json={"flow": "nope", "context": {}},
                            headers=env.auth("agent")), 404, "flow")
    problem(env.client.get("/v1/flows/nope", headers=env.auth("agent")), 404, "flow")


def test_invalid_context_is_422_naming_fields_never_values(env: Env) -> None:
    context = {"customer": {**CUSTOMER, "phone": SECRET_PHONE, "title": "Dr"}}
    response = env.client.post("/v1/calls", json={"flow": "first_visit", "context": context},
                               headers=env.auth("agent"))
    body = problem(response, 422, "context.customer.phone")
    assert "context.customer.title" in [e["field"] for e in body["errors"]]
    assert SECRET_PHONE not in response.text and "Dr" not in json.dumps(body["errors"])


def test_missing_context_field_is_422(env: Env) -> None:
    context = {"customer": {k: v for k, v in CUSTOMER.items() if k != "name"}}
    problem(env.client.post("/v1/calls", json={"flow": "first_visit", "context": context},
                            headers=env.auth("agent")), 422, "context.customer.name")


def test_context_parts_the_service_fills_are_refused(env: Env) -> None:
    context = {"customer": CUSTOMER, "agent": {"name": "冒名"}}
    problem(env.client.post("/v1/calls", json={"flow": "first_visit", "context": context},
                            headers=env.auth("agent")), 422, "context.agent")


def test_malformed_body_is_422_without_echo(env: Env) -> None:
    response = env.client.post("/v1/calls", json={"flow": SECRET_PHONE * 10, "context": []},
                               headers=env.auth("agent"))
    body = problem(response, 422)
    assert {"flow", "context"} <= {e["field"] for e in body["errors"]}
    assert SECRET_PHONE not in response.text


def test_a_refused_answer_is_422_and_changes_nothing(env: Env) -> None:
    call = env.start()
    body = problem(env.turn(call, {"type": "answer", "answer": SECRET_PHONE}), 422, "answer")
    assert SECRET_PHONE not in json.dumps(body) and "answered" in body["detail"]
    again = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert again.headers["ETag"] == '"1"'


def test_turn_on_an_ended_call_is_409(env: Env) -> None:
    call = walk_to_end(env, env.start(), ["no_answer"])
    problem(env.turn(call, {"type": "answer", "answer": "answered"}), 409, "id")


def test_missing_if_match_is_428(env: Env) -> None:
    call = env.start()
    response = env.client.post(f"/v1/calls/{call['id']}/turns",
                               json={"type": "answer", "answer": "answered"},
                               headers=env.auth("agent"))
    problem(response, 428, "If-Match")


def test_stale_revision_is_412_and_changes_nothing(env: Env) -> None:
    call = env.start()
    moved = walk_to_end(env, call, ["answered"])
    problem(env.turn(call, {"type": "answer", "answer": "no_answer"}), 412, "If-Match")
    now = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert now.headers["ETag"] == '"2"' and now.json()["prompt"] == moved["prompt"]


def test_if_match_without_quotes_is_accepted(env: Env) -> None:
    call = env.start()
    response = env.client.post(f"/v1/calls/{call['id']}/turns",
                               json={"type": "answer", "answer": "answered"},
                               headers={**env.auth("agent"), "If-Match": "1"})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'


def test_a_weak_etag_never_matches(env: Env) -> None:
    call = env.start()
    response = env.client.post(f"/v1/calls/{call['id']}/turns",
                               json={"type": "answer", "answer": "answered"},
                               headers={**env.auth("agent"), "If-Match": 'W/"1"'})
    problem(response, 412, "If-Match")  # If-Match compares strongly (RFC 9110 13.1.1)
    now = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert now.headers["ETag"] == '"1"'


def test_body_over_64_kib_is_413(env: Env) -> None:
    big = {"flow": "first_visit", "context": {"customer": {"name": "x" * 70_000}}}
    problem(env.client.post("/v1/calls", json=big, headers=env.auth("agent")), 413, "body")

    def chunks() -> Any:  # no Content-Length: the limit holds for a streamed body too
        yield b'{"flow": "first_visit", "context": {"x": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}}'

    streamed = env.client.post("/v1/calls", content=chunks(),
                               headers={**env.auth("agent"), "content-type": "application/json"})
    problem(streamed, 413)


def test_unauthenticated_is_401(env: Env) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = env.client.get("/v1/calls", headers=headers)
        problem(response, 401, "Authorization")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_another_agents_call_is_404(env: Env) -> None:
    call = env.start()
    other = env.auth("other_agent")
    problem(env.client.get(f"/v1/calls/{call['id']}", headers=other), 404, "id")
    problem(env.client.get(f"/v1/calls/{call['id']}/record", headers=other), 404, "id")
    response = env.client.post(f"/v1/calls/{call['id']}/turns", json={"type": "hold"},
                               headers={**other, "If-Match": '"1"'})
    problem(response, 404, "id")
    problem(env.client.get("/v1/calls/no-such-call", headers=env.auth("agent")), 404, "id")


def test_database_down_is_503_with_retry_after(env: Env, db_url: str, tmp_path: Path) -> None:
    # SQLite: the file's folder is gone; PostgreSQL: nobody listens
    url = (f"sqlite:///{tmp_path}/gone/callscript.db" if db_url.startswith("sqlite")
           else "postgresql://postgres@127.0.0.1:9/none?connect_timeout=2")
    svc = Service(engine=make_engine(url), cipher=Cipher([]), library=Library())
    with TestClient(create_app(svc, sweep=False), raise_server_exceptions=False) as client:
        response = client.get("/v1/calls", headers=env.auth("agent"))
        health = client.get("/healthz")
    problem(health, 503)
    body = problem(response, 503)
    assert response.headers["Retry-After"].isdigit() and "password" not in json.dumps(body)


def test_unknown_route_is_a_problem_too(env: Env) -> None:
    problem(env.client.get("/v1/nothing-here"), 404)


def test_a_body_that_is_not_json_is_422(env: Env) -> None:
    response = env.client.post("/v1/calls", content=b'{"flow": ' + SECRET_PHONE.encode(),
                               headers={**env.auth("agent"), "content-type": "application/json"})
    body = problem(response, 422, "body")
    assert SECRET_PHONE not in response.text and body["errors"][0]["problem"] == "is not valid JSON"
