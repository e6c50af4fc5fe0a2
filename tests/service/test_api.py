"""The API on SQLite and on a real PostgreSQL: a whole call, revisions, events, records."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from tests.service.conftest import CUSTOMER, Env, walk_to_end

# first_visit's shortest way to the end: the customer is not reached
NO_ANSWER = ["no_answer"]
# to the line where the agent says their own name and phone
TO_AGENT_NAME = ["answered", "confirmed", "agrees", "all_fine", "no_questions", "declines",
                 "declines", "declines", "not_needed"]


def test_a_whole_call_moves_revision_by_revision(env: Env) -> None:
    call = env.start()
    assert call["revision"] == 1 and call["status"] == "live"
    assert call["prompt"]["step"] == "prepare"
    got = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert got.headers["ETag"] == '"1"' and got.json()["prompt"] == call["prompt"]

    call = walk_to_end(env, call, ["answered"])
    assert call["revision"] == 2
    assert "王先生" in call["prompt"]["lines"][0]  # the agent reads the customer's name aloud
    call = walk_to_end(env, call, ["confirmed"])
    assert call["revision"] == 3 and call["prompt"]["step"] == "introduce"
    listed = env.client.get("/v1/calls", params={"status": "live"}, headers=env.auth("agent"))
    assert [c["id"] for c in listed.json()["items"]] == [call["id"]]


def test_agent_profile_and_deployment_fill_the_context(env: Env) -> None:
    call = walk_to_end(env, env.start(), TO_AGENT_NAME)
    said = " ".join(call["prompt"]["lines"])
    assert "李娜" in said and "0571-86001234" in said  # from users add --display-name --phone
    record = env.client.get(f"/v1/calls/{call['id']}/record", headers=env.auth("agent")).json()
    assert record["agent_id"] == "A0107" and record["customer_ref"] == CUSTOMER["reference"]


def test_a_call_that_ends_has_its_disposition_and_record(env: Env) -> None:
    call = walk_to_end(env, env.start(), NO_ANSWER)
    assert call["status"] == "ended" and call["prompt"]["terminal"]
    assert call["disposition"] == call["prompt"]["disposition"] == "no_answer"
    record = env.client.get(f"/v1/calls/{call['id']}/record", headers=env.auth("agent")).json()
    assert record["disposition"] == {"id": "no_answer", "code": "NA", "label": "无人接听"}
    assert record["path"][0]["step"] == "prepare"


def test_events_are_numbered_without_gaps_per_call(env: Env) -> None:
    first, second = env.start(), env.start()
    walk_to_end(env, first, ["answered", "confirmed"])
    walk_to_end(env, second, NO_ANSWER)
    items: list[dict[str, Any]] = []
    cursor = None
    while True:  # pages of 2, to exercise the cursor
        params = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = env.client.get("/v1/events", params=params, headers=env.auth("supervisor")).json()
        items += page["items"]
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for call in (first, second):
        seqs = [e["seq"] for e in items if e["call_id"] == call["id"]]
        assert seqs == list(range(1, len(seqs) + 1))
    kinds = [e["kind"] for e in items if e["call_id"] == second["id"]]
    assert kinds[0] == "started" and kinds[-1] == "ended"


def test_personal_data_is_encrypted_at_rest(env: Env) -> None:
    call = walk_to_end(env, env.start(), ["answered", "confirmed"])
    with env.svc.engine.connect() as conn:
        rows = [" ".join(str(v) for v in row) for table in
                ("calls", "events", "users", "idempotency")
                for row in conn.execute(text(f"SELECT * FROM {table}"))]
    dump = "\n".join(rows)
    assert call["id"] in dump
    for secret in (CUSTOMER["phone"], "王", "李娜", "0571-86001234"):
        assert secret not in dump


def test_listing_pages_with_a_cursor(env: Env) -> None:
    made = [env.start()["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = env.client.get("/v1/calls", params=params, headers=env.auth("supervisor")).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


def test_flows_are_described_with_their_context_schema(env: Env) -> None:
    flows = env.client.get("/v1/flows", headers=env.auth("agent")).json()
    assert "first_visit" in [f["id"] for f in flows]
    flow = env.client.get("/v1/flows/first_visit", headers=env.auth("agent")).json()
    assert flow["start"] == "prepare" and flow["library"] == "telecom"
    dispositions = {d["id"]: d for d in flow["dispositions"]}
    assert dispositions["no_answer"] == {"id": "no_answer", "label": "无人接听", "code": "NA",
                                         "reached": False, "final": False}
    assert {"abandoned", "expired"} <= set(dispositions)  # the service's own, not declared
    compiled = env.svc.library.flows["first_visit"]
    assert all(s["title"] == compiled.steps[s["id"]].title for s in flow["steps"])
    schema = flow["context_schema"]
    assert "customer" in schema["properties"] and "agent" not in schema["properties"]
    assert "deployment" not in schema["properties"]
    assert "name" in schema["$defs"]["CustomerContext"]["required"]


def test_health(env: Env) -> None:
    assert env.client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_migrations_match_the_tables(env: Env) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from callscript.store.tables import metadata

    with env.svc.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_the_api_docs_are_served_without_a_cdn(env: Env) -> None:
    page = env.client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets)  # nothing from the internet
    for asset in assets:
        assert env.client.get(asset).status_code == 200
    assert env.client.get("/openapi.json").json()["paths"]["/v1/calls/{call_id}/turns"]
