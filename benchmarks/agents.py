"""Simulated agents driving complete calls over HTTP, as a call centre's software would.

Each agent is a thread with its own connection: it starts a first visit, answers
`ANSWERS` turn by turn with `If-Match` and an `Idempotency-Key` (the call and the
revision, as docs/service.md advises) and starts the next call. A request that
fails in transport (a worker killed under it) or gets 503 (the database away) is
retried with the same key, so every turn is acknowledged exactly once; `Tally`
keeps what the service acknowledged, for a test to compare with the store.

Requests go through the standard library's `http.client` on one keep-alive
connection per agent: a lean client, so that the load generator's own CPU takes as
little of the machine as it can (httpx costs several times more per request).

Used by benchmarks/service.py (the load figures) and by tests/service/test_faults.py.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ANSWERS = ("answered", "confirmed", "no_time", "refuses")  # first_visit, 4 turns to its end
CUSTOMER = {"name": "王", "title": "先生", "phone": "13812345678", "reference": "C-LOAD"}


class GaveUp(Exception):
    """A request kept failing past the agent's patience."""


@dataclass
class Response:
    status_code: int
    headers: http.client.HTTPMessage  # get() ignores the case of names
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Client:
    """One keep-alive HTTP/1.1 connection, opened again after a transport failure."""

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers, self.timeout = dict(headers), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, json_body: Any = None,
                headers: Mapping[str, str] | None = None) -> Response:
        """The response; OSError or http.client.HTTPException when the transport failed."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        sent = {**self.headers, **(headers or {})}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=sent)
            answer = self.conn.getresponse()
            return Response(answer.status, answer.headers, answer.read())
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Tally:
    """What the service acknowledged (2xx received), and how it went."""

    acked: dict[str, int] = field(default_factory=dict)  # call id -> last acknowledged revision
    turn_seconds: list[float] = field(default_factory=list)  # per acknowledged turn
    start_seconds: list[float] = field(default_factory=list)  # per acknowledged start
    calls_ended: int = 0
    retried: int = 0  # transport failures and 503s retried with the same key
    unavailable: int = 0  # 503s received
    retry_after: set[str] = field(default_factory=set)  # the Retry-After values of those 503s
    failures: list[str] = field(default_factory=list)  # unexpected statuses, for the report
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def turns(self) -> int:
        return len(self.turn_seconds)


@dataclass
class Agents:
    base_urls: Sequence[str]  # agents are spread over these (several serve processes)
    tokens: Sequence[str]  # one agent user each; agent i uses tokens[i % len]
    count: int
    patience: float = 30.0  # seconds a request may keep failing before the agent gives up
    pause_on_failure: float = 0.1  # instead of the whole Retry-After: tests stay short
    tally: Tally = field(default_factory=Tally)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)

    def _send(self, client: Client, method: str, path: str, json_body: Any,
              headers: Mapping[str, str]) -> Response:
        """One request, retried with the same headers and body until it is answered."""
        give_up = time.monotonic() + self.patience
        while True:
            response: Response | None
            try:
                response = client.request(method, path, json_body, headers)
            except (OSError, http.client.HTTPException):
                response = None
            if response is not None and response.status_code != 503:
                return response
            with self.tally.lock:
                self.tally.retried += 1
                if response is not None:
                    self.tally.unavailable += 1
                    self.tally.retry_after.add(response.headers.get("Retry-After", ""))
            if time.monotonic() > give_up:
                raise GaveUp(f"{method} {path}: no answer for {self.patience} s")
            time.sleep(self.pause_on_failure)

    def _agent(self, i: int) -> None:
        base = self.base_urls[i % len(self.base_urls)]
        auth = {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}
        client = Client(base, auth)
        try:
            self._calls(i, client)
        finally:
            client.close()

    def _calls(self, i: int, client: Client) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            began = time.perf_counter()
            response = self._send(client, "POST", "/v1/calls", {
                "flow": "first_visit", "context": {"customer": CUSTOMER}},
                {"Idempotency-Key": f"agent-{i}-call-{n}"})
            if response.status_code != 201:
                self._failed(response)
                return
            call = response.json()
            with self.tally.lock:
                self.tally.start_seconds.append(time.perf_counter() - began)
                self.tally.acked[call["id"]] = call["revision"]
            for answer in ANSWERS:
                if self.stop.is_set():
                    return
                revision = call["revision"]
                began = time.perf_counter()
                response = self._send(
                    client, "POST", f"/v1/calls/{call['id']}/turns",
                    {"type": "answer", "answer": answer},
                    {"If-Match": f'"{revision}"', "Idempotency-Key": f"{call['id']}-{revision}"})
                if response.status_code != 200:
                    self._failed(response)
                    return
                call = response.json()
                with self.tally.lock:
                    self.tally.turn_seconds.append(time.perf_counter() - began)
                    self.tally.acked[call["id"]] = call["revision"]
            with self.tally.lock:
                self.tally.calls_ended += call["status"] == "ended"

    def _failed(self, response: Response) -> None:
        with self.tally.lock:
            self.tally.failures.append(f"{response.status_code} {response.text[:200]}")

    def _run(self, i: int) -> None:
        try:
            self._agent(i)
        except BaseException as err:  # reported by join(); the other agents go on
            self.errors.append(err)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                   for i in range(self.count)]
        for thread in threads:
            thread.start()
        return threads

    def join(self, threads: list[threading.Thread], timeout: float = 60) -> Tally:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            raise GaveUp("agents did not stop in time")
        if self.errors:
            raise self.errors[0]
        return self.tally


def open_calls(base_url: str, token: str, count: int, threads: int = 8) -> list[str]:
    """Start ``count`` first visits and leave them live (calls waiting on an answer), as a
    busy centre's store holds them; their ids. Each start is sent once, with its own key."""
    ids: list[str] = []
    lock = threading.Lock()
    errors: list[str] = []

    def starter(part: int) -> None:
        client = Client(base_url, {"Authorization": f"Bearer {token}"})
        try:
            for n in range(part, count, threads):
                response = client.request("POST", "/v1/calls", {
                    "flow": "first_visit", "context": {"customer": CUSTOMER}},
                    {"Idempotency-Key": f"open-{n}"})
                if response.status_code != 201:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                    return
                with lock:
                    ids.append(response.json()["id"])
        finally:
            client.close()

    workers = [threading.Thread(target=starter, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise GaveUp(f"opening calls failed: {errors[0]}")
    return ids
