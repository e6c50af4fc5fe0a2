"""Every route for each role, with another agent's token and with none."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.service.conftest import CUSTOMER, Env, call_put_on_hold_too_long

WHO = ["agent", "other_agent", "supervisor", "integrator", None]


def _headers(env: Env, who: str | None, **extra: str) -> dict[str, str]:
    return {**(env.auth(who) if who else {}), **extra}


def _start(env: Env, who: str | None) -> Any:
    body: dict[str, Any] = {"flow": "first_visit", "context": {"customer": CUSTOMER}}
    if who == "integrator":
        body["agent"] = "A0107"  # integrators start calls for an agent
    return env.client.post("/v1/calls", json=body, headers=_headers(env, who))


ROUTES: dict[str, tuple[Callable[[Env, str | None, Any], Any], dict[str | None, int]]] = {
    "GET /v1/flows": (lambda env, who, call: env.client.get(
        "/v1/flows", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 200, "supervisor": 200, "integrator": 200, None: 401}),
    "GET /v1/flows/{flow}": (lambda env, who, call: env.client.get(
        "/v1/flows/first_visit", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 200, "supervisor": 200, "integrator": 200, None: 401}),
    "POST /v1/calls": (lambda env, who, call: _start(env, who),
        {"agent": 201, "other_agent": 201, "supervisor": 403, "integrator": 201, None: 401}),
    "GET /v1/calls": (lambda env, who, call: env.client.get(
        "/v1/calls", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 200, "supervisor": 200, "integrator": 200, None: 401}),
    "GET /v1/calls/{id}": (lambda env, who, call: env.client.get(
        f"/v1/calls/{call['id']}", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 404, "supervisor": 200, "integrator": 200, None: 401}),
    "POST /v1/calls/{id}/turns": (lambda env, who, call: env.client.post(
        f"/v1/calls/{call['id']}/turns", json={"type": "answer", "answer": "answered"},
        headers=_headers(env, who, **{"If-Match": '"1"'})),
        {"agent": 200, "other_agent": 404, "supervisor": 403, "integrator": 403, None: 401}),
    "POST /v1/calls/{id}/abandon": (lambda env, who, call: env.client.post(
        f"/v1/calls/{call['id']}/abandon", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 404, "supervisor": 403, "integrator": 200, None: 401}),
    "GET /v1/calls/{id}/record": (lambda env, who, call: env.client.get(
        f"/v1/calls/{call['id']}/record", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 404, "supervisor": 200, "integrator": 200, None: 401}),
    "GET /v1/follow-ups": (lambda env, who, call: env.client.get(
        "/v1/follow-ups", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 200, "supervisor": 200, "integrator": 200, None: 401}),
    "POST /v1/follow-ups/{id}/done": (lambda env, who, call: env.client.post(
        f"/v1/follow-ups/{call['follow_up']}/done", headers=_headers(env, who)),
        {"agent": 200, "other_agent": 404, "supervisor": 200, "integrator": 200, None: 401}),
    "GET /v1/events": (lambda env, who, call: env.client.get(
        "/v1/events", headers=_headers(env, who)),
        {"agent": 403, "other_agent": 403, "supervisor": 200, "integrator": 200, None: 401}),
    "DELETE /v1/customers/{ref}/personal-data": (lambda env, who, call: env.client.delete(
        f"/v1/customers/{CUSTOMER['reference']}/personal-data", headers=_headers(env, who)),
        {"agent": 403, "other_agent": 403, "supervisor": 200, "integrator": 200, None: 401}),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_route_for_every_role(env: Env, route: str) -> None:
    send, expected = ROUTES[route]
    got = {}
    for who in WHO:
        call = env.start()  # the first agent's; a fresh one for each caller
        if "follow-ups/{id}" in route:
            ended = call_put_on_hold_too_long(env)
            items = env.client.get("/v1/follow-ups", headers=env.auth("agent")).json()["items"]
            call = {**ended, "follow_up": next(f["id"] for f in items
                                               if f["call_id"] == ended["id"])}
        got[who] = send(env, who, call).status_code
    assert got == expected


def test_an_agent_lists_only_its_own_calls(env: Env) -> None:
    mine = env.start()["id"]
    theirs = env.start("other_agent")["id"]
    listed = {who: [c["id"] for c in env.client.get("/v1/calls", headers=env.auth(who))
                    .json()["items"]] for who in ("agent", "other_agent", "supervisor")}
    assert listed == {"agent": [mine], "other_agent": [theirs], "supervisor": [mine, theirs]}
    asked = env.client.get("/v1/calls", params={"agent": "A0200"}, headers=env.auth("agent"))
    assert asked.json()["items"] == []


def test_an_agent_cannot_start_a_call_for_another(env: Env) -> None:
    response = env.client.post("/v1/calls", json={"flow": "first_visit", "agent": "A0200",
                                                  "context": {"customer": CUSTOMER}},
                               headers=env.auth("agent"))
    assert response.status_code == 403
    missing = env.client.post("/v1/calls", json={"flow": "first_visit",
                                                 "context": {"customer": CUSTOMER}},
                              headers=env.auth("integrator"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "agent"
    unknown = env.client.post("/v1/calls", json={"flow": "first_visit", "agent": "S1",
                                                 "context": {"customer": CUSTOMER}},
                              headers=env.auth("integrator"))
    assert unknown.status_code == 422  # S1 is a supervisor, not an agent


def test_a_removed_user_is_401(env: Env) -> None:
    from callscript.store import repo

    assert env.client.get("/v1/calls", headers=env.auth("agent")).status_code == 200
    with env.svc.engine.begin() as conn:
        assert repo.remove_user(conn, "A0107")
    # SQLite reads users on every request; PostgreSQL workers forget remembered tokens when
    # the removal's notification arrives, a moment after the commit (test_tokens.py)
    patience = 0.0 if env.svc.engine.dialect.name == "sqlite" else 5.0
    deadline = time.monotonic() + patience
    while (status := env.client.get("/v1/calls", headers=env.auth("agent")).status_code) == 200:
        assert time.monotonic() < deadline, "the removed token still works"
        time.sleep(0.01)
    assert status == 401
