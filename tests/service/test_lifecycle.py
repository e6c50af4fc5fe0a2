"""Hold, follow-ups, abandon, expiry and erasure through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from callscript.service import operations
from tests.service.conftest import CUSTOMER, USER_PHONE, Env, call_put_on_hold_too_long


def test_a_long_hold_becomes_a_callback_follow_up(env: Env) -> None:
    call = call_put_on_hold_too_long(env)
    assert call["status"] == "ended" and call["disposition"] == "callback_scheduled"
    page = env.client.get("/v1/follow-ups", headers=env.auth("agent")).json()
    assert [(f["call_id"], f["kind"]) for f in page["items"]] == [(call["id"], "callback")]
    assert env.client.get("/v1/follow-ups", headers=env.auth("other_agent")).json()["items"] == []


def test_follow_ups_filter_by_due_date_and_are_marked_done(env: Env) -> None:
    call = call_put_on_hold_too_long(env)
    due = env.client.get("/v1/follow-ups", headers=env.auth("supervisor")).json()["items"][0]
    assert due["call_id"] == call["id"] and due["due"] is not None
    early = env.client.get("/v1/follow-ups", params={"due_before": "2000-01-01"},
                           headers=env.auth("supervisor")).json()
    assert early["items"] == []
    later = env.client.get("/v1/follow-ups", params={"due_before": "2100-01-01"},
                           headers=env.auth("supervisor")).json()
    assert [f["id"] for f in later["items"]] == [due["id"]]
    assert env.client.post(f"/v1/follow-ups/{due['id']}/done",
                           headers=env.auth("other_agent")).status_code == 404
    done = env.client.post(f"/v1/follow-ups/{due['id']}/done", headers=env.auth("agent"))
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert env.client.get("/v1/follow-ups", headers=env.auth("agent")).json()["items"] == []
    every = env.client.get("/v1/follow-ups", params={"include_done": "true"},
                           headers=env.auth("agent")).json()
    assert len(every["items"]) == 1


def test_records_are_redacted_for_supervisors_only(env: Env) -> None:
    call = call_put_on_hold_too_long(env)
    path = f"/v1/calls/{call['id']}/record"
    for user in ("agent", "integrator"):
        assert env.client.get(path, headers=env.auth(user)).json()["captures"] == {
            "user_phone": USER_PHONE, "user_identity_note": "户主的儿子"}
    redacted = env.client.get(path, headers=env.auth("supervisor"))
    assert USER_PHONE not in redacted.text and "user_phone" in redacted.json()["captures"]


def test_abandon_ends_a_live_call_with_a_disposition(env: Env) -> None:
    call = env.start()
    response = env.client.post(f"/v1/calls/{call['id']}/abandon",
                               headers={**env.auth("agent"), "If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["status"] == "abandoned" and response.json()["disposition"] == "abandoned"
    assert response.headers["ETag"] == '"2"'
    again = env.client.post(f"/v1/calls/{call['id']}/abandon", headers=env.auth("agent"))
    assert again.status_code == 409
    assert env.turn({**call, "revision": 2}, {"type": "hold"}).status_code == 409
    kinds = [e["kind"] for e in env.client.get("/v1/events", headers=env.auth("integrator"))
             .json()["items"]]
    assert kinds[-1] == "abandoned"


def test_idle_live_calls_expire(env: Env) -> None:
    idle, busy, done = env.start(), env.start(), env.start()
    env.turn(done, {"type": "answer", "answer": "no_answer"})
    env.clock.now += timedelta(hours=3)
    assert env.turn(busy, {"type": "answer", "answer": "answered"}).status_code == 200
    env.clock.now += timedelta(hours=2)  # idle: 5 h without a turn; busy: 2 h
    assert operations.expire_idle(env.svc) == 1
    statuses = {c["id"]: c["status"] for c in
                env.client.get("/v1/calls", headers=env.auth("supervisor")).json()["items"]}
    assert statuses == {idle["id"]: "expired", busy["id"]: "live", done["id"]: "ended"}
    expired = env.client.get(f"/v1/calls/{idle['id']}", headers=env.auth("agent")).json()
    assert expired["disposition"] == "expired" and expired["revision"] == 2


def test_erasure_keeps_an_anonymised_record(env: Env) -> None:
    call = call_put_on_hold_too_long(env)
    live = env.start()
    other = env.client.post("/v1/calls", json={"flow": "first_visit", "context": {
        "customer": {**CUSTOMER, "reference": "C-OTHER"}}}, headers=env.auth("agent")).json()
    assert env.client.delete(f"/v1/customers/{CUSTOMER['reference']}/personal-data",
                             headers=env.auth("agent")).status_code == 403
    erased = env.client.delete(f"/v1/customers/{CUSTOMER['reference']}/personal-data",
                               headers=env.auth("supervisor"))
    assert erased.status_code == 200 and erased.json() == {"calls": 2}
    record = env.client.get(f"/v1/calls/{call['id']}/record", headers=env.auth("integrator"))
    assert record.status_code == 200
    body = record.json()
    assert body["customer_ref"] is None and body["disposition"]["id"] == "callback_scheduled"
    for secret in (USER_PHONE, CUSTOMER["phone"], "王先生"):
        assert secret not in record.text
    assert env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent")).json()[
        "prompt"] is None
    gone = env.client.get(f"/v1/calls/{live['id']}", headers=env.auth("agent")).json()
    assert gone["status"] == "erased"
    with env.svc.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM calls WHERE context IS NOT NULL")).scalar()
        details = conn.execute(text("SELECT count(*) FROM events WHERE detail IS NOT NULL "
                                    "AND call_id = :id"), {"id": call["id"]}).scalar()
    assert left == 1 and details == 0  # only the other customer's call keeps its data
    assert env.client.get(f"/v1/calls/{other['id']}", headers=env.auth("agent")).json()["prompt"]
