"""The service's operations: start a call, take a turn, abandon, expire.

A start or a turn reads, computes the call in memory, then makes one all-or-nothing
write (``store.writes``): the call's row (a turn's update is conditional on the
revision it read), its events with the runtime's per-call numbers, its follow-ups
and the idempotency key kept with the whole response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from callscript.compile import Flow
from callscript.errors import CallEnded, ContextError, NotApplicableError
from callscript.service import calls as runtime
from callscript.service.auth import User
from callscript.service.library import (
    AgentProfile,
    ContextInvalid,
    customer_ref_of,
    disposition_of,
)
from callscript.service.problems import ApiError
from callscript.service.state import Service
from callscript.store import repo, writes
from callscript.store.writes import CallWrite, EventRow, KeyRow


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def digest(method: str, path: str, body: Any, if_match: str | None) -> str:
    canonical = json.dumps([method, path, body, if_match], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def etag(revision: int) -> str:
    return f'"{revision}"'


def parse_if_match(value: str | None) -> int:
    """The revision an If-Match names: "7", and leniently 7. Missing: 428."""
    if value is None:
        raise ApiError(428, "If-Match required", "send the call's revision (its ETag) as If-Match",
                       [("If-Match", "is required")])
    text = value.strip()
    if text.startswith("W/"):  # If-Match compares strongly (RFC 9110): a weak tag never matches
        raise ApiError(412, "Precondition failed", "If-Match compares strong ETags only",
                       [("If-Match", "must be the call's ETag without W/, such as \"7\"")])
    text = text.strip('"')
    if not text.isdigit() or len(text) > 9:
        raise ApiError(412, "Precondition failed", "If-Match is not a revision of this call",
                       [("If-Match", "must be the call's ETag, such as \"7\"")])
    return int(text)


def store_json(svc: Service, data: Any) -> str:
    return svc.cipher.encrypt(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def load_json(svc: Service, stored: str) -> Any:
    return json.loads(svc.cipher.decrypt(stored))


def _events(svc: Service, items: list[runtime.Event]) -> list[EventRow]:
    return [(e.seq, e.kind, e.step, None if e.detail is None else store_json(svc, e.detail))
            for e in items]


def _follow_ups(items: list[runtime.Event]) -> list[Mapping[str, Any]]:
    return [item.detail for item in items if item.kind == "follow_up"]


def call_body(row: Row[Any] | Mapping[str, Any], prompt: dict[str, Any] | None) -> dict[str, Any]:
    r = row._mapping if isinstance(row, Row) else row
    return {"id": r["id"], "flow": r["flow"], "flow_version": r["flow_version"],
            "agent": r["agent"], "status": r["status"], "revision": r["revision"],
            "disposition": r["outcome"], "created_at": r["created_at"].isoformat(),
            "updated_at": r["updated_at"].isoformat(), "prompt": prompt}


StoredKey = tuple[str, str, datetime]  # an idempotency key's digest, response and time


def _replayed(svc: Service, found: StoredKey | None, want: str) -> Reply | None:
    """The reply stored with a retried key, if the key is still kept."""
    if found is None or found[2] < svc.clock() - svc.key_ttl:
        return None
    kept_digest, response, _ = found
    if kept_digest != want:
        raise ApiError(422, "Idempotency-Key reused", "this key was used for another request",
                       [("Idempotency-Key", "was sent before with another request")])
    stored = load_json(svc, response)
    return Reply(stored["status"], stored["body"], stored["headers"])


def _stored_key(svc: Service, scope: str, key: str) -> StoredKey | None:
    with svc.reads.begin() as conn:
        row = repo.get_key(conn, scope, key)
    return None if row is None else (row.digest, row.response, row.created_at)


def _key_row(svc: Service, scope: str, key: str | None, found: StoredKey | None, want: str,
             reply: Reply) -> KeyRow | None:
    """The key to keep with the reply; a key of that name past its time is dropped first."""
    if key is None:
        return None
    if found is not None:  # past its time: _replayed answered a live one
        with svc.engine.begin() as conn:
            repo.drop_key(conn, scope, key)
    response = {"status": reply.status, "body": reply.body, "headers": reply.headers}
    return KeyRow(scope, key, want, store_json(svc, response))


def _agent_profile(conn: Connection, svc: Service, user: User, agent: str | None) -> AgentProfile:
    if user.role == "agent":
        if agent not in (None, user.name):
            raise ApiError(403, "Forbidden", "an agent starts only its own calls",
                           [("agent", "must be your own user name or left out")])
        agent = user.name
    elif user.role != "integrator":
        raise ApiError(403, "Forbidden", "only agents and integrators start calls")
    if agent is None:
        raise ApiError(422, "Invalid request", "name the agent who makes the call",
                       [("agent", "is required")])
    row = repo.user_by_name(conn, agent)
    if row is None or row.role != "agent":
        raise ApiError(422, "Invalid request", "no agent has this user name",
                       [("agent", "is not an agent's user name")])
    return AgentProfile(agent, svc.cipher.maybe_decrypt(row.display_name),
                        svc.cipher.maybe_decrypt(row.phone))


def _started(svc: Service, flow: Flow, given: dict[str, Any], profile: AgentProfile
             ) -> tuple[runtime.Call, list[runtime.Event], dict[str, Any]]:
    """The new call, its events and its context, or the 422 that says why not."""
    try:
        context = svc.library.build_context(flow, given, profile, svc.deployment)
    except ContextInvalid as err:
        raise ApiError(422, "Invalid context", "see errors for the fields at fault",
                       [(p.field, p.problem) for p in err.problems]) from None
    try:
        call, events = runtime.start(flow, context, svc.clock)
    except ContextError as err:  # checked above; kept so a change there stays a 422
        raise ApiError(422, "Invalid context", "see errors for the fields at fault",
                       [(f"context.{p}", "is invalid or missing")
                        for p in (*err.invalid, *err.missing)] or
                       [("context", "is invalid")]) from None
    except NotApplicableError:
        raise ApiError(422, "Flow does not apply", "the flow's condition is false for "
                       "this customer", [("context", "does not meet the flow's "
                                         "applicability condition")]) from None
    return call, events, context


def start_call(svc: Service, user: User, flow_id: str, given: dict[str, Any], agent: str | None,
               key: str | None, request_digest: str) -> Reply:
    flow = svc.library.flow(flow_id)
    if flow is None:
        raise ApiError(404, "Unknown flow", "no flow has this id; see GET /v1/flows",
                       [("flow", "is not a known flow")])
    scope = f"start:{user.name}"
    found = _stored_key(svc, scope, key) if key is not None else None
    if done := _replayed(svc, found, request_digest):
        return done
    with svc.reads.begin() as conn:
        profile = _agent_profile(conn, svc, user, agent)
    call, events, context = _started(svc, flow, given, profile)
    now = svc.clock()
    row = {"id": call.call_id, "flow": flow.id, "flow_version": flow.version,
           "agent": profile.name, "status": "ended" if call.ended else "live",
           "step": call.state, "outcome": runtime.disposition(call),
           "revision": call.revision, "event_seq": events[-1].seq if events else 0,
           "customer_ref": customer_ref_of(flow, context),
           "context": store_json(svc, context),
           "snapshot": svc.cipher.encrypt(runtime.snapshot_text(call)),
           "erased_record": None, "created_at": now, "updated_at": now}
    reply = Reply(201, call_body(row, runtime.prompt(call)),
                  {"ETag": etag(call.revision), "Location": f"/v1/calls/{call.call_id}"})
    write = CallWrite(call.call_id, profile.name, now, insert=row,
                      key=_key_row(svc, scope, key, found, request_digest, reply),
                      follow_ups=_follow_ups(events), events=_events(svc, events))
    try:
        writes.commit(svc.writes, write)
    except IntegrityError:  # the same key, committed first by a concurrent retry
        if key is None or not (done := _replayed(svc, _stored_key(svc, scope, key),
                                                 request_digest)):
            raise
        return done
    return reply


def visible_call(conn: Connection, user: User, call_id: str) -> Row[Any]:
    row = repo.get_call(conn, call_id)
    if row is None or not user.sees_call_of(row.agent):
        raise ApiError(404, "Unknown call", "no call with this id is visible to you",
                       [("id", "is not a call you can see")])
    return row


def served_flow(svc: Service, row: Row[Any]) -> Flow:
    flow = svc.library.flow(row.flow)
    if flow is None:
        raise ApiError(409, "Flow no longer served", "the call's flow is not in this "
                       "service's library", [("flow", "is not served")])
    return flow


def restore(svc: Service, row: Row[Any]) -> tuple[runtime.Call, list[runtime.Event]]:
    if row.snapshot is None:
        raise ApiError(410, "Personal data erased", "this call's data was erased on request")
    flow = served_flow(svc, row)
    return runtime.restore(flow, svc.cipher.decrypt(row.snapshot), load_json(svc, row.context),
                           svc.clock)


def record_of(svc: Service, row: Row[Any], call: runtime.Call, redacted: bool) -> dict[str, Any]:
    """The call's record; an abandoned or expired call ends with the service's disposition."""
    record = runtime.record(call, redacted)
    if row.status in ("abandoned", "expired"):
        declared = disposition_of(call.flow, row.outcome)
        if declared is not None:
            record["disposition"] = {"id": declared.id, "code": declared.code,
                                     "label": declared.label}
        record["ended_at"] = row.updated_at.isoformat()
    return record


def read_call(svc: Service, user: User, call_id: str) -> Reply:
    with svc.reads.begin() as conn:
        row = visible_call(conn, user, call_id)
        prompt = None
        if row.snapshot is not None and row.status in ("live", "ended"):  # nothing to say else
            call, _ = restore(svc, row)
            prompt = runtime.prompt(call)
        return Reply(200, call_body(row, prompt), {"ETag": etag(row.revision)})


def take_turn(svc: Service, user: User, call_id: str, if_match: str | None,
              turn: runtime.TurnRequest, key: str | None, request_digest: str) -> Reply:
    """One turn: one read, then one write that the store applies only at the revision read.
    A lost race is 412, or the first reply when it was a retry of this very request."""
    with svc.reads.begin() as conn:
        row = repo.call_with_key(conn, call_id, key)
    if row is None or not user.sees_call_of(row.agent):
        raise ApiError(404, "Unknown call", "no call with this id is visible to you",
                       [("id", "is not a call you can see")])
    if user.role != "agent":
        raise ApiError(403, "Forbidden", "only the call's agent takes its turns")
    found = None if row.key_digest is None else (row.key_digest, row.key_response,
                                                  row.key_created_at)
    if done := _replayed(svc, found, request_digest):
        return done
    expected = parse_if_match(if_match)
    if expected != row.revision:  # first: a stale client must GET the call anew
        raise _stale()
    if row.status != "live":
        raise ApiError(409, "Call has ended", f"the call is {row.status}; no more turns",
                       [("id", "is not a live call")])
    call, events = restore(svc, row)
    try:
        moved = runtime.apply_turn(call, turn, expected, key)
    except runtime.StaleRevision:  # the snapshot disagrees with the row: never expected
        raise _stale() from None
    except runtime.TurnIdReused:
        moved = False
    except runtime.TurnRefused as err:
        raise ApiError(422, "Turn refused", err.detail,
                       [(err.field, p) for p in err.problems or ("is not allowed here",)]
                       ) from None
    except CallEnded:
        raise ApiError(409, "Call has ended", "the call has ended; no more turns") from None
    if not moved:  # the runtime remembers this key from another turn of the call
        raise ApiError(422, "Idempotency-Key reused", "this key was used for another "
                       "turn of this call", [("Idempotency-Key", "was sent before with "
                                              "another request")])
    now = svc.clock()
    values = {"status": "ended" if call.ended else "live", "step": call.state,
              "outcome": runtime.disposition(call),
              "event_seq": events[-1].seq if events else row.event_seq,
              "snapshot": svc.cipher.encrypt(runtime.snapshot_text(call)), "updated_at": now}
    new = {**row._mapping, **values, "revision": expected + 1}
    reply = Reply(200, call_body(new, runtime.prompt(call)), {"ETag": etag(expected + 1)})
    write = CallWrite(call_id, row.agent, now, update=values, revision=expected,
                      key=_key_row(svc, call_id, key, found, request_digest, reply),
                      follow_ups=_follow_ups(events), events=_events(svc, events))
    try:
        if writes.commit(svc.writes, write):
            return reply
    except IntegrityError:  # the key, stored first by a concurrent retry
        pass
    if key is not None and (done := _replayed(svc, _stored_key(svc, call_id, key),
                                              request_digest)):
        return done  # that retry won the race
    raise _stale()


def _stale() -> ApiError:
    return ApiError(412, "Stale revision", "the call has moved on; GET it and try again",
                    [("If-Match", "is not the call's current revision")])


def close_call(svc: Service, conn: Connection, row: Row[Any], status: str) -> bool:
    """Abandon or expire a live call: its disposition is the status, as the flow's library
    declares it or else the service's own (library.SERVICE_DISPOSITIONS). False if it moved."""
    now = svc.clock()
    flow = svc.library.flow(row.flow)
    declared = disposition_of(flow, status) if flow is not None else None
    detail = None if declared is None else {"disposition": {
        "id": declared.id, "code": declared.code, "label": declared.label}}
    values = {"status": status, "outcome": status, "event_seq": row.event_seq + 1,
              "updated_at": now}
    if not repo.update_call(conn, row.id, row.revision, **values):
        return False
    stored = None if detail is None else store_json(svc, detail)
    repo.append_events(conn, row.id, [(row.event_seq + 1, status, row.step, stored)], now)
    return True


def abandon(svc: Service, user: User, call_id: str, if_match: str | None) -> Reply:
    with svc.engine.begin() as conn:
        row = visible_call(conn, user, call_id)
        if user.role == "supervisor":
            raise ApiError(403, "Forbidden", "supervisors read calls; they do not abandon them")
        if if_match is not None and parse_if_match(if_match) != row.revision:
            raise ApiError(412, "Stale revision", "the call has moved on",
                           [("If-Match", "is not the call's current revision")])
        if row.status != "live":
            raise ApiError(409, "Call has ended", f"the call is {row.status}",
                           [("id", "is not a live call")])
        if not close_call(svc, conn, row, "abandoned"):
            raise ApiError(412, "Stale revision", "the call has moved on")
        new = visible_call(conn, user, call_id)
        return Reply(200, call_body(new, None), {"ETag": etag(new.revision)})


def expire_idle(svc: Service, limit: int = 100) -> int:
    """Expire live calls idle past ``expire_after``; drop idempotency keys past their time."""
    now = svc.clock()
    expired = 0
    with svc.engine.begin() as conn:
        for idle in repo.idle_calls(conn, now - svc.expire_after, limit):
            row = repo.get_call(conn, idle.id)
            if row is not None and row.status == "live":
                expired += close_call(svc, conn, row, "expired")
        repo.purge_keys(conn, now - svc.key_ttl)
    return expired
