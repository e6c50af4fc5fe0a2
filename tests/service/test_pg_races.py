"""Races on PostgreSQL through `callscript serve --workers 2`: each client on its own
connection, so both worker processes take part; the store is read back directly."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from callscript.store.db import normalise_url
from callscript.store.tables import calls, events
from tests.service.conftest import CUSTOMER, _fresh_postgres
from tests.service.servers import Served, race, serving, start_call

CLIENTS = 50
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = _fresh_postgres(postgres_admin_url)
    with serving(url, tmp_path_factory.mktemp("serve")) as running:
        yield running


def stored_events(served: Served, call_id: str) -> list[tuple[int, str, str]]:
    engine = create_engine(normalise_url(served.db_url))
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.seq, events.c.kind, events.c.step)
                            .where(events.c.call_id == call_id).order_by(events.c.seq)).all()
    engine.dispose()
    return [(r.seq, r.kind, r.step) for r in rows]


def stored_call(served: Served, call_id: str) -> Any:
    engine = create_engine(normalise_url(served.db_url))
    with engine.connect() as conn:
        row = conn.execute(select(calls).where(calls.c.id == call_id)).one()
    engine.dispose()
    return row


def test_two_workers_serve_the_race(served: Served) -> None:
    assert len(served.worker_pids()) == 2


def test_fifty_answers_at_one_revision_land_exactly_one(served: Served) -> None:
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        call = start_call(client, served)
        # walk a little first, so the race is on a call with history
        for answer in ("answered", "confirmed"):
            call = client.post(f"/v1/calls/{call['id']}/turns", json={
                "type": "answer", "answer": answer}, headers={
                **served.auth(), "If-Match": f'"{call["revision"]}"'}).json()
    assert call["revision"] == 3 and call["prompt"]["step"] == "introduce"
    # half agree, half have no time: whichever lands, the others change nothing
    bodies = [{"type": "answer", "answer": "agrees" if i % 2 else "no_time"}
              for i in range(CLIENTS)]
    responses = race(served.base_url, CLIENTS, lambda client, i: client.post(
        f"/v1/calls/{call['id']}/turns", json=bodies[i],
        headers={**served.auth(), "If-Match": '"3"'}))
    assert Counter(r.status_code for r in responses) == {200: 1, 412: CLIENTS - 1}
    assert {r.headers["content-type"] for r in responses if r.status_code == 412} == {
        "application/problem+json"}
    winner = next(r for r in responses if r.status_code == 200).json()
    with httpx.Client(base_url=served.base_url, timeout=30, headers=served.auth()) as client:
        now = client.get(f"/v1/calls/{call['id']}")
        record = client.get(f"/v1/calls/{call['id']}/record").json()
    assert now.headers["ETag"] == '"4"' and now.json()["prompt"] == winner["prompt"]
    # each turn once in the record: prepare, confirm_name, introduce, then the winner's step
    steps = [entry["step"] for entry in record["path"]]
    assert steps == ["prepare", "confirm_name", "introduce", winner["prompt"]["step"]]
    seqs = [seq for seq, _kind, _step in stored_events(served, call["id"])]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(1 for _s, kind, _st in stored_events(served, call["id"])
               if kind == "step_entered") == 4
    row = stored_call(served, call["id"])
    assert row.revision == 4 and row.event_seq == seqs[-1]


def test_fifty_retries_with_one_key_land_one_turn_with_one_reply(served: Served) -> None:
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        call = start_call(client, served)
    headers = {**served.auth(), "If-Match": '"1"', "Idempotency-Key": f"{call['id']}-1"}
    body = {"type": "answer", "answer": "answered"}
    responses = race(served.base_url, CLIENTS, lambda client, i: client.post(
        f"/v1/calls/{call['id']}/turns", json=body, headers=headers))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert {r.headers["ETag"] for r in responses} == {'"2"'}
    kinds = [kind for _seq, kind, _step in stored_events(served, call["id"])]
    assert kinds.count("step_entered") == 2  # prepare, then confirm_name: once
    assert stored_call(served, call["id"]).revision == 2


def test_fifty_concurrent_starts_with_one_key_make_one_call(served: Served) -> None:
    body = {"flow": "first_visit", "context": {"customer": {**CUSTOMER, "reference": "C-RACE"}}}
    headers = {**served.auth(), "Idempotency-Key": "start-race-1"}
    responses = race(served.base_url, CLIENTS, lambda client, i: client.post(
        "/v1/calls", json=body, headers=headers))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    engine = create_engine(normalise_url(served.db_url))
    with engine.connect() as conn:
        made = conn.execute(select(calls.c.id).where(calls.c.customer_ref == "C-RACE")).all()
    engine.dispose()
    assert [r.id for r in made] == [responses[0].json()["id"]]
    assert [kind for _s, kind, _st in stored_events(served, made[0].id)] == [
        "started", "step_entered"]
