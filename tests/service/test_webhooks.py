"""Webhooks from the outbox to a real HTTP receiver on loopback, started by the test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.agents import Agents
from sqlalchemy import create_engine, select

from callscript.service.main import BACKOFF_VARIABLE, SettingsError, webhook_for
from callscript.service.webhooks import SECRET_VARIABLE, sign
from callscript.store.db import normalise_url
from callscript.store.tables import events
from tests.service.conftest import CUSTOMER, USER_PHONE, _fresh_postgres
from tests.service.servers import Served, free_port, serving, start_call

pytestmark = pytest.mark.slow
KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(KEY).decode()


class Receiver:
    """A webhook receiver: keeps every request; answers 500 to the first `fail_first`."""

    def __init__(self, port: int, fail_first: int = 0, delay: float = 0.0) -> None:
        self.port, self.fail_first, self.delay = port, fail_first, delay
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with receiver.lock:
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= failing
                    if not failing:
                        receiver.received.append(({k.lower(): v for k, v in self.headers.items()},
                                                  body))
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/callscript"

    def ids(self) -> list[int]:
        with self.lock:
            return [json.loads(body)["data"]["event_id"] for _h, body in self.received]


def verify(headers: dict[str, str], body: bytes) -> None:
    """As a receiver would, from the Standard Webhooks spec (not from our sign())."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    version, _, signature = headers["webhook-signature"].partition(",")
    assert version == "v1" and hmac.compare_digest(signature, expected)
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300


def stored_event_ids(db_url: str) -> list[int]:
    engine = create_engine(normalise_url(db_url))
    with engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(events.c.id).order_by(events.c.id))]
    engine.dispose()
    return ids


def wait_for(receiver: Receiver, db_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while set(receiver.ids()) != set(stored_event_ids(db_url)):
        assert time.monotonic() < deadline, (
            f"{len(set(receiver.ids()))} of {len(stored_event_ids(db_url))} events delivered")
        time.sleep(0.1)


def turn(client: httpx.Client, served: Served, call: Any, body: dict[str, Any]) -> Any:
    response = client.post(f"/v1/calls/{call['id']}/turns", json=body, headers={
        **served.auth(), "If-Match": f'"{call["revision"]}"'})
    assert response.status_code == 200, response.text
    return response.json()


def test_events_are_signed_and_hold_no_personal_data(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    receiver.start()
    db_url = f"sqlite:///{tmp_path / 'callscript.db'}"
    try:
        with serving(db_url, tmp_path, workers=1, extra=["--webhook", receiver.url],
                     env={SECRET_VARIABLE: SECRET}) as served, \
                httpx.Client(base_url=served.base_url, timeout=30) as client:
            call = start_call(client, served)
            for answer in ("answered", "confirmed"):
                call = turn(client, served, call, {"type": "answer", "answer": answer})
            call = turn(client, served, call, {"type": "interrupt", "interruption": "not_holder"})
            call = turn(client, served, call, {"type": "answer", "answer": "gives",
                                               "captures": {"user_phone": USER_PHONE}})
            abandoned = client.post(f"/v1/calls/{call['id']}/abandon", headers=served.auth())
            assert abandoned.status_code == 200, abandoned.text
            ended = start_call(client, served)
            for answer in ("answered", "confirmed", "no_time", "refuses"):
                ended = turn(client, served, ended, {"type": "answer", "answer": answer})
            assert ended["status"] == "ended"
            wait_for(receiver, db_url)
    finally:
        receiver.stop()
    assert len(receiver.received) == len(stored_event_ids(db_url))  # each once
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for headers, body in receiver.received:
        verify(headers, body)
        assert headers["content-type"] == "application/json"
        message = json.loads(body)
        assert headers["webhook-id"] == f"evt_{message['data']['event_id']}"
        assert message["type"] == "call." + message["data"]["kind"]
        by_kind[message["data"]["kind"]].append(message["data"])
        # ids, steps, dispositions: no customer data, no captured value, no line
        text = body.decode()
        for personal in (USER_PHONE, CUSTOMER["phone"], CUSTOMER["name"], "李娜", "您好"):
            assert personal not in text
        assert set(message["data"]) == {"event_id", "call_id", "seq", "kind", "step", "flow",
                                        "agent", "disposition"}
    assert [d["step"] for d in by_kind["captured"]] == ["not_holder.ask_details"]
    assert by_kind["abandoned"][0]["disposition"] == {"id": "abandoned", "code": "AB",
                                                       "label": "坐席放弃通话"}
    assert by_kind["ended"][0]["disposition"]["id"] == ended["disposition"]
    assert by_kind["ended"][0]["call_id"] == ended["id"]


def test_a_receiver_down_then_up_gets_every_event_in_order_across_a_restart(
        postgres_admin_url: str, tmp_path: Path) -> None:
    db_url = _fresh_postgres(postgres_admin_url)
    receiver = Receiver(free_port(), fail_first=3, delay=0.003)  # down, then failing, then up
    with serving(db_url, tmp_path, workers=2, extra=["--webhook", receiver.url],
                 env={SECRET_VARIABLE: SECRET, BACKOFF_VARIABLE: "1"}) as served:
        agents = Agents([served.base_url], [served.token], 4)
        threads = agents.start()
        time.sleep(1.5)
        agents.join(threads)
        stored = stored_event_ids(db_url)
        assert len(stored) > 50 and receiver.ids() == []
        time.sleep(1.0)  # the senders keep failing to connect and back off
        receiver.start()
        try:
            deadline = time.monotonic() + 30
            while len(receiver.ids()) < len(stored) // 3:
                assert time.monotonic() < deadline, "delivery did not resume"
                time.sleep(0.02)
            served.stop()  # a restart mid-delivery: the cursor is in the database
            served.start()
            wait_for(receiver, db_url)
        finally:
            receiver.stop()
    delivered = receiver.ids()
    assert set(delivered) == set(stored)
    assert len(delivered) - len(set(delivered)) <= 2  # at least once: a repeat per restart at most
    per_call: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for headers, body in receiver.received:
        verify(headers, body)
        data = json.loads(body)["data"]
        if headers["webhook-id"] not in seen:
            seen.add(headers["webhook-id"])
            per_call[data["call_id"]].append(data["seq"])
    for seqs in per_call.values():
        assert seqs == list(range(1, len(seqs) + 1))  # in order, none missing


def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    with pytest.raises(SettingsError, match=SECRET_VARIABLE):
        webhook_for("http://127.0.0.1:9/hooks")
    monkeypatch.setenv(SECRET_VARIABLE, "whsec_not base64!")
    with pytest.raises(SettingsError, match="base64") as raised:
        webhook_for("http://127.0.0.1:9/hooks")
    assert "not base64!" not in str(raised.value)  # the secret is never echoed
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    with pytest.raises(SettingsError, match="http"):
        webhook_for("ftp://example.org/")
    config = webhook_for("http://127.0.0.1:9/hooks")
    assert config is not None and config.key == KEY and config.backoff_max == 60
    assert [config.backoff(n) for n in (1, 2, 3, 8, 9)] == [0.5, 1, 2, 60, 60]
    monkeypatch.setenv(BACKOFF_VARIABLE, "soon")
    with pytest.raises(SettingsError, match=BACKOFF_VARIABLE):
        webhook_for("http://127.0.0.1:9/hooks")
    # the example in the Standard Webhooks spec
    spec_key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert sign(spec_key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
