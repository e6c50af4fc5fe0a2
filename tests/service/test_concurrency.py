"""Races and retries over real HTTP: one turn lands, retries get the first reply."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx

from tests.service.conftest import CUSTOMER, Env, LiveServer
from tests.service.servers import race

RACERS = 20


def _events_of(env: Env, call_id: str) -> list[dict[str, Any]]:
    page = env.client.get("/v1/events", params={"limit": 200}, headers=env.auth("supervisor"))
    return [e for e in page.json()["items"] if e["call_id"] == call_id]


def test_twenty_turns_at_one_revision_land_exactly_one(env: Env, live: LiveServer) -> None:
    call = env.start()
    headers = {**env.auth("agent"), "If-Match": '"1"'}
    # half answer one way, half the other: whichever lands, the rest must change nothing
    bodies = [{"type": "answer", "answer": "answered" if i % 2 else "no_answer"}
              for i in range(RACERS)]
    responses = race(live.base_url, RACERS, lambda client, i: client.post(
        f"/v1/calls/{call['id']}/turns", json=bodies[i], headers=headers))
    assert Counter(r.status_code for r in responses) == {200: 1, 412: RACERS - 1}
    winner = next(r for r in responses if r.status_code == 200).json()
    now = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert now.headers["ETag"] == '"2"' and now.json()["prompt"] == winner["prompt"]
    record = env.client.get(f"/v1/calls/{call['id']}/record", headers=env.auth("agent")).json()
    assert len(record["path"]) == 2
    seqs = [e["seq"] for e in _events_of(env, call["id"])]
    assert seqs == list(range(1, len(seqs) + 1))


def test_concurrent_retries_with_one_key_land_one_turn_with_one_reply(
        env: Env, live: LiveServer) -> None:
    call = env.start()
    headers = {**env.auth("agent"), "If-Match": '"1"', "Idempotency-Key": "turn-1-of-call"}
    body = {"type": "answer", "answer": "answered"}
    responses = race(live.base_url, RACERS, lambda client, i: client.post(
        f"/v1/calls/{call['id']}/turns", json=body, headers=headers))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert {r.headers["ETag"] for r in responses} == {'"2"'}
    record = env.client.get(f"/v1/calls/{call['id']}/record", headers=env.auth("agent")).json()
    assert len(record["path"]) == 2


def test_a_retry_after_the_call_moved_on_gets_the_first_reply(env: Env) -> None:
    call = env.start()
    key = {"Idempotency-Key": "k-1"}
    first = env.turn(call, {"type": "answer", "answer": "answered"}, **key)
    moved = env.turn(first.json(), {"type": "answer", "answer": "confirmed"})
    assert moved.status_code == 200
    retry = env.turn(call, {"type": "answer", "answer": "answered"}, **key)
    assert retry.status_code == 200 and retry.content == first.content
    assert retry.headers["ETag"] == '"2"'
    now = env.client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))
    assert now.headers["ETag"] == '"3"'


def test_the_same_key_with_another_request_is_422(env: Env) -> None:
    call = env.start()
    key = {"Idempotency-Key": "k-2"}
    assert env.turn(call, {"type": "answer", "answer": "answered"}, **key).status_code == 200
    other = env.turn(call, {"type": "answer", "answer": "no_answer"}, **key)
    assert other.status_code == 422
    assert "Idempotency-Key" in [e["field"] for e in other.json()["errors"]]


def test_keys_are_scoped_per_call(env: Env) -> None:
    first, second = env.start(), env.start()
    key = {"Idempotency-Key": "same-key"}
    body = {"type": "answer", "answer": "answered"}
    assert env.turn(first, body, **key).status_code == 200
    assert env.turn(second, body, **key).json()["revision"] == 2


def test_keys_are_kept_24_hours(env: Env) -> None:
    from datetime import timedelta

    call = env.start()
    key = {"Idempotency-Key": "old"}
    assert env.turn(call, {"type": "answer", "answer": "answered"}, **key).status_code == 200
    env.clock.now += timedelta(hours=25)
    late = env.turn(call, {"type": "answer", "answer": "answered"}, **key)
    assert late.status_code == 412  # forgotten: now it is a stale turn like any other


def test_starting_a_call_twice_with_one_key_makes_one_call(env: Env, live: LiveServer) -> None:
    body = {"flow": "first_visit", "context": {"customer": CUSTOMER}}
    headers = {**env.auth("agent"), "Idempotency-Key": "start-1"}
    responses = race(live.base_url, 8, lambda client, i: client.post("/v1/calls", json=body,
                                                             headers=headers))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = env.client.get("/v1/calls", headers=env.auth("agent")).json()["items"]
    assert len(listed) == 1


def test_a_feed_reader_misses_no_event_while_calls_run(env: Env, live: LiveServer) -> None:
    """A reader following the cursor during concurrent turns ends with every event."""
    seen: list[int] = []
    stop = threading.Event()

    def follow() -> None:
        cursor = "0"
        with httpx.Client(base_url=live.base_url, timeout=60,
                          headers=env.auth("integrator")) as client:
            while True:
                done = stop.is_set()  # read before the page: a last full pass after the writers
                page = client.get("/v1/events", params={"after": cursor, "limit": 50}).json()
                seen.extend(e["id"] for e in page["items"])
                cursor = page["next_cursor"] or cursor
                if done and not page["items"]:
                    return

    reader = threading.Thread(target=follow)
    reader.start()

    def work(client: httpx.Client, i: int) -> httpx.Response:
        body = {"flow": "first_visit", "context": {"customer": CUSTOMER}}
        call = client.post("/v1/calls", json=body, headers=env.auth("agent")).json()
        for answer in ("answered", "confirmed", "no_time"):
            call = client.post(f"/v1/calls/{call['id']}/turns", headers={
                **env.auth("agent"), "If-Match": str(call["revision"])},
                json={"type": "answer", "answer": answer}).json()
        return client.get(f"/v1/calls/{call['id']}", headers=env.auth("agent"))

    try:
        assert {r.status_code for r in race(live.base_url, 10, work)} == {200}
    finally:
        stop.set()
        reader.join(60)
    every = env.client.get("/v1/events", params={"limit": 200},
                           headers=env.auth("supervisor")).json()["items"]
    assert len(every) >= 10 * 4  # each call: started, then a step per turn
    assert seen == sorted(seen) and seen == [e["id"] for e in every]
