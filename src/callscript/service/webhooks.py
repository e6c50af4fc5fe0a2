"""Webhooks: the event outbox delivered to one receiver, signed as Standard Webhooks says.

Every worker runs a sender thread; a lease on the receiver's row in `webhook_cursors`
lets one of them deliver at a time (another takes over when a worker dies and its
lease runs out). Events go out one per request in the order of their ids, which is
their commit order (the outbox's advisory lock), so each call's events arrive in
order: a failed event is retried with exponential backoff before any later one is
sent. The cursor advances in the database after each acknowledged (2xx) delivery, so
a restart or crash resends at most the one event in flight: delivery is at least
once, and `webhook-id` (the same on every attempt) lets the receiver drop a repeat.

A payload holds ids, step names and dispositions, never personal data: no captured
value, no line, no event detail (the detail column is never read here).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from callscript.service.library import Library, disposition_of
from callscript.store.tables import calls, events, webhook_cursors

log = logging.getLogger("callscript.service.webhooks")
SECRET_VARIABLE = "CALLSCRIPT_WEBHOOK_SECRET"
SECRET_PREFIX = "whsec_"
LEASE = timedelta(seconds=30)  # a dead worker's deliveries resume after this
BATCH = 100
CLOSING_KINDS = ("ended", "abandoned", "expired")  # these carry the call's disposition


class WebhookSecretError(Exception):
    """The signing secret is missing or malformed; the message says how to make one."""


def secret_from_env() -> bytes:
    """The key bytes of CALLSCRIPT_WEBHOOK_SECRET (`whsec_` + base64, as Standard Webhooks)."""
    value = os.environ.get(SECRET_VARIABLE, "").strip()
    how = ("make one with: python3 -c \"import base64, os; "
           "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\"")
    if not value:
        raise WebhookSecretError(f"--webhook needs the signing secret in {SECRET_VARIABLE}; {how}")
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        raise WebhookSecretError(f"{SECRET_VARIABLE} is not whsec_ followed by base64; "
                                 f"{how}") from None
    if len(key) < 24:
        raise WebhookSecretError(f"{SECRET_VARIABLE} is too short (under 24 bytes); {how}")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 HMAC-SHA256 of "id.timestamp.body" (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    key: bytes
    backoff_first: float = 0.5  # seconds before the first retry; doubled per failure
    backoff_max: float = 60.0
    idle_poll: float = 0.5  # seconds between looks at the outbox when all is delivered
    timeout: float = 10.0

    @property
    def endpoint(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()

    def backoff(self, failures: int) -> float:
        return float(min(self.backoff_max, self.backoff_first * 2 ** max(0, failures - 1)))


def payload(row: Any, library: Library) -> dict[str, Any]:
    data: dict[str, Any] = {"event_id": row.id, "call_id": row.call_id, "seq": row.seq,
                            "kind": row.kind, "step": row.step, "flow": row.flow,
                            "agent": row.agent, "disposition": None}
    flow = library.flow(row.flow) if row.flow else None
    if row.kind in CLOSING_KINDS and flow is not None:
        found = disposition_of(flow, row.outcome)
        if found is not None:
            data["disposition"] = {"id": found.id, "code": found.code, "label": found.label}
    return {"type": f"call.{row.kind}", "timestamp": row.at.isoformat(), "data": data}


def _now() -> datetime:
    return datetime.now(UTC)  # leases use real time, never a test's clock


def ensure_cursor(engine: Engine, config: WebhookConfig) -> None:
    """A new receiver starts at the end of the outbox: it gets the events from now on."""
    try:
        with engine.begin() as conn:
            if conn.execute(select(webhook_cursors.c.endpoint).where(
                    webhook_cursors.c.endpoint == config.endpoint)).first() is None:
                last = conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one()
                conn.execute(insert(webhook_cursors).values(
                    endpoint=config.endpoint, last_event_id=last, failures=0,
                    updated_at=_now()))
    except IntegrityError:
        pass  # another worker created it at the same moment


class Sender:
    """Deliver the outbox to the receiver, in order, until told to stop."""

    def __init__(self, engine: Engine, library: Library, config: WebhookConfig) -> None:
        self.engine, self.library, self.config = engine, library, config
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(4).hex()}"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.config.timeout) as client:
            while not self.stopping.is_set():
                try:
                    wait = self.deliver_some(client)
                except Exception as err:  # the database away: try again later
                    log.warning("webhook delivery paused: %s", type(err).__name__)
                    wait = self.config.backoff_max / 10
                self.stopping.wait(wait)

    def _lease(self, conn: Connection) -> Any:
        """Take or renew the lease; the cursor row if this worker holds it."""
        now = _now()
        cursor = webhook_cursors.c
        taken = conn.execute(update(webhook_cursors).where(and_(
            cursor.endpoint == self.config.endpoint,
            or_(cursor.lease_owner.is_(None), cursor.lease_owner == self.owner,
                cursor.lease_until < now))).values(lease_owner=self.owner,
                                                   lease_until=now + LEASE)).rowcount
        if taken != 1:
            return None
        return conn.execute(select(webhook_cursors).where(
            cursor.endpoint == self.config.endpoint)).one()

    def deliver_some(self, client: httpx.Client) -> float:
        """One batch; returns how long to wait before the next."""
        with self.engine.begin() as conn:
            held = self._lease(conn)
            if held is None:
                return LEASE.total_seconds() / 3  # another worker delivers
            rows = conn.execute(
                select(events.c.id, events.c.call_id, events.c.seq, events.c.kind,
                       events.c.step, events.c.at, calls.c.flow, calls.c.agent, calls.c.outcome)
                .select_from(events.outerjoin(calls, calls.c.id == events.c.call_id))
                .where(events.c.id > held.last_event_id).order_by(events.c.id)
                .limit(BATCH)).all()
        failures = held.failures
        for row in rows:
            if self.stopping.is_set():
                return 0
            if not self._post(client, row):
                failures += 1
                self._advance(None, failures)
                return self.config.backoff(failures)
            failures = 0
            if not self._advance(row.id, 0):
                return LEASE.total_seconds() / 3  # the lease was lost: someone else sends
        return 0 if len(rows) == BATCH else self.config.idle_poll

    def _post(self, client: httpx.Client, row: Any) -> bool:
        body = json.dumps(payload(row, self.library), ensure_ascii=False,
                          separators=(",", ":")).encode()
        message_id = f"evt_{row.id}"
        timestamp = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(self.config.key, message_id, timestamp, body)}
        try:
            response = client.post(self.config.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            log.info("webhook receiver unreachable: %s", type(err).__name__)
            return False
        if not response.is_success:
            log.info("webhook receiver answered %s", response.status_code)
        return response.is_success

    def _advance(self, event_id: int | None, failures: int) -> bool:
        """Record a delivery (or a failure) while still holding the lease."""
        cursor = webhook_cursors.c
        values: dict[str, Any] = {"failures": failures, "updated_at": _now(),
                                  "lease_until": _now() + LEASE}
        if event_id is not None:
            values["last_event_id"] = event_id
        with self.engine.begin() as conn:
            return bool(conn.execute(update(webhook_cursors).where(and_(
                cursor.endpoint == self.config.endpoint, cursor.lease_owner == self.owner))
                .values(**values)).rowcount == 1)

    def release(self) -> None:
        """Give the lease up on a clean shutdown, so another worker goes on at once."""
        cursor = webhook_cursors.c
        try:
            with self.engine.begin() as conn:
                conn.execute(update(webhook_cursors).where(and_(
                    cursor.endpoint == self.config.endpoint, cursor.lease_owner == self.owner))
                    .values(lease_owner=None, lease_until=None))
        except Exception as err:
            log.warning("webhook lease not released: %s", type(err).__name__)
