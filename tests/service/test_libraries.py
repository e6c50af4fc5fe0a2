"""Libraries in the service: contexts from each library's schema, its dispositions, the
fields the service fills, and the runtime's revisions, turn ids and event numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from callscript.service.auth import hash_token, new_token
from callscript.service.library import SERVICE_DISPOSITIONS, Library
from callscript.store import repo
from tests.service.conftest import CUSTOMER, Env, open_env, walk_to_end

PROSPECT = {"name": "王", "title": "先生", "phone": "13812345678", "reference": "P-2001",
            "source": "银行网点客户咨询留存", "previous_contacts": 0}
PRODUCT = {"name": "银证通", "description": "——银证通，用银行账户直接买卖股票，资金安全，操作方便"}


def _agent_without_profile(env: Env, name: str) -> dict[str, str]:
    token = new_token()
    with env.svc.engine.begin() as conn:
        repo.add_user(conn, name, "agent", hash_token(token), None, None, datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


def test_a_field_the_agent_would_say_unset_is_422_naming_it(env: Env) -> None:
    flow = env.svc.library.flows["first_visit"]
    assert {"agent.phone", "deployment.hotline"} <= flow.spoken_context
    body = {"flow": "first_visit", "context": {"customer": CUSTOMER}}
    # an agent whose profile has no name or phone: the call would say placeholders
    bare = env.client.post("/v1/calls", json=body, headers=_agent_without_profile(env, "A0300"))
    assert _fields(bare) == {"context.agent.name", "context.agent.phone"}
    assert "users add" in bare.text
    # a deployment file without the hotline
    env.svc.deployment = {"deployment": {"carrier": "联通", "service_centre": "西湖区"}}
    unset = env.client.post("/v1/calls", json=body, headers=env.auth("agent"))
    assert _fields(unset) == {"context.deployment.hotline"}
    assert "--deployment" in unset.text
    for secret in (CUSTOMER["phone"], "西湖区"):
        assert secret not in bare.text + unset.text


def test_a_client_may_not_send_a_part_the_service_fills(env: Env) -> None:
    body = {"flow": "first_visit", "context": {"customer": CUSTOMER,
                                               "deployment": {"hotline": "12345"}}}
    assert _fields(env.client.post("/v1/calls", json=body, headers=env.auth("agent"))) == {
        "context.deployment"}


def test_a_securities_call_through_the_service(db_url: str) -> None:
    """-L securities: its own parts, step titles and dispositions; abandoned is the service's
    own, because the library declares none."""
    with open_env(db_url, Library(["securities"]), {}) as env:
        flows = env.client.get("/v1/flows", headers=env.auth("agent")).json()
        assert [f["id"] for f in flows] == ["marketing"]
        described = env.client.get("/v1/flows/marketing", headers=env.auth("agent")).json()
        assert described["library"] == "securities"
        schema = described["context_schema"]
        assert set(schema["properties"]) == {"prospect", "product"}  # agent, firm: the service's
        codes = {d["id"]: d["code"] for d in described["dispositions"]}
        assert codes["contacted"] == "CT" and codes["abandoned"] == "AB"
        assert "abandoned" not in env.svc.library.flows["marketing"].dispositions

        call = env.start(flow="marketing", context={"prospect": PROSPECT, "product": PRODUCT})
        compiled = env.svc.library.flows["marketing"]
        prompt = call["prompt"]
        assert prompt["title"] == compiled.steps[prompt["step"]].title != prompt["step"]
        call = walk_to_end(env, call, [prompt["answers"][0]["id"]])
        assert call["revision"] == 2
        abandoned = env.client.post(f"/v1/calls/{call['id']}/abandon",
                                    headers={**env.auth("agent"), "If-Match": '"2"'})
        assert abandoned.status_code == 200, abandoned.text
        record = env.client.get(f"/v1/calls/{call['id']}/record",
                                headers=env.auth("agent")).json()
        ours = SERVICE_DISPOSITIONS["abandoned"]
        assert record["disposition"] == {"id": "abandoned", "code": ours.code, "label": ours.label}
        assert record["ended_at"] is not None and record["customer_ref"] == "P-2001"
        assert record["agent_id"] == "A0107"


def test_the_outbox_numbers_are_the_runtimes(env: Env) -> None:
    call = walk_to_end(env, env.start(), ["answered", "confirmed"])
    events = env.client.get("/v1/events", headers=env.auth("supervisor")).json()["items"]
    mine = [e for e in events if e["call_id"] == call["id"]]
    assert (mine[0]["seq"], mine[0]["kind"]) == (1, "started")
    assert mine[0]["detail"] == {"flow": "first_visit", "version": 2}
    with env.svc.engine.connect() as conn:
        row = repo.get_call(conn, call["id"])
    assert row is not None
    snapshot = env.svc.cipher.decrypt(row.snapshot)
    assert json.loads(snapshot)["events"] == mine[-1]["seq"] == row.event_seq


def test_a_turn_id_is_remembered_by_the_call_after_the_store_forgets_it(env: Env) -> None:
    call = walk_to_end(env, env.start(), ["answered"])
    first = env.turn(call, {"type": "answer", "answer": "confirmed"}, **{"Idempotency-Key": "t1"})
    assert first.status_code == 200
    call = first.json()
    with env.svc.engine.begin() as conn:  # the store's copy of the key is gone (24 hours)
        assert repo.purge_keys(conn, env.clock.now + env.svc.key_ttl) == 1
    reused = env.turn(call, {"type": "answer", "answer": "agrees"}, **{"Idempotency-Key": "t1"})
    assert _fields(reused) == {"Idempotency-Key"}
    again = env.turn(call, {"type": "answer", "answer": "confirmed"}, **{"Idempotency-Key": "t1"})
    assert _fields(again) == {"Idempotency-Key"}  # same input, but for another revision
    got = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert got.headers["ETag"] == f'"{call["revision"]}"'  # nothing moved
    fresh = env.turn(call, {"type": "answer", "answer": "agrees"}, **{"Idempotency-Key": "t2"})
    assert fresh.status_code == 200 and fresh.json()["revision"] == call["revision"] + 1
