"""The FastAPI application: routes, authentication, the body limit, the expiry sweep."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callscript import __version__
from callscript.console import mount as mount_console
from callscript.service import calls as runtime
from callscript.service import erasure, operations, webhooks
from callscript.service.auth import User, hash_token
from callscript.service.models import (
    CallOut,
    CallSummary,
    Erased,
    EventOut,
    FlowOut,
    FlowSummary,
    FollowUpOut,
    Health,
    Page,
    StartCall,
    Turn,
)
from callscript.service.problems import ApiError, install, problem_response, responses
from callscript.service.state import Service
from callscript.service.tokens import Users
from callscript.store import repo

MAX_BODY = 64 * 1024
SWEEP_SECONDS = 60


class BodyLimit:
    """413 for a body over 64 KiB, announced or streamed, before any handler reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        too_big = length is not None and length.isdigit() and int(length) > MAX_BODY
        messages: list[Message] = []
        size = 0
        while not too_big:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            too_big = size > MAX_BODY
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if too_big:
            response = problem_response(413, "Request body too large",
                                        f"the limit is {MAX_BODY // 1024} KiB", [("body", "too large")])
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def current_user(request: Request, authorization: Annotated[str | None, Header(
        description="Bearer TOKEN, as `callscript users add` printed it")] = None) -> User:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Not authenticated", "send Authorization: Bearer TOKEN",
                       [("Authorization", "is missing or not a bearer token")],
                       {"WWW-Authenticate": "Bearer"})
    users: Users = request.app.state.service.users
    token_hash = hash_token(token.strip())
    # a remembered token costs no thread and no round trip (service/tokens.py says when)
    user = users.remembered(token_hash) or await run_in_threadpool(users.lookup, token_hash)
    if user is None:
        raise ApiError(401, "Not authenticated", "the token is unknown or revoked",
                       [("Authorization", "is not a valid token")], {"WWW-Authenticate": "Bearer"})
    return user


Caller = Annotated[User, Depends(current_user)]
Key = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                   description="Makes a retry safe: same key, same reply")]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=32,
                                       description='The revision the turn answers: "7"')]
Cursor = Annotated[str | None, Query(pattern="^[0-9]{0,18}$",
                                     description="next_cursor of the last page")]
CallCursor = Annotated[str | None, Query(pattern="^[0-9a-f]{0,32}$",
                                         description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]


class FastJSONResponse(JSONResponse):
    """The same JSON (UTF-8, compact) rendered by orjson: a call's body every turn."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _reply(reply: operations.Reply) -> JSONResponse:
    return FastJSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def create_app(svc: Service, sweep: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweeper(svc)) if sweep else None
        sender = await run_in_threadpool(_start_webhooks, svc)
        svc.users.start()
        yield
        await run_in_threadpool(svc.users.stop)
        if task is not None:
            task.cancel()
        if sender is not None:
            await run_in_threadpool(_stop_webhooks, sender)

    # /docs and /redoc from assets shipped in the package: call centres often have no internet
    app: FastAPI = FastAPIOffline(
        title="callscript", version=__version__, lifespan=lifespan, description=(
            "Run callback calls over HTTP. Errors are application/problem+json (RFC 9457)."))
    install(app)
    app.add_middleware(BodyLimit)
    app.state.service = svc

    def reader(caller: User, *roles: str) -> None:
        if caller.role not in roles:
            raise ApiError(403, "Forbidden", f"this needs the role {' or '.join(roles)}")

    @app.get("/healthz", summary="Is the service and its database up",
             response_model=Health, responses=responses())
    def healthz() -> dict[str, str]:
        with svc.reads.connect() as conn:  # one round trip on PostgreSQL (autocommit)
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok"}

    @app.get("/v1/flows", summary="List the flows",
             response_model=list[FlowSummary], responses=responses())
    def list_flows(caller: Caller) -> list[dict[str, Any]]:
        return [{"id": f.id, "title": f.title, "version": f.version, "purpose": f.purpose}
                for f in sorted(svc.library.flows.values(), key=lambda f: f.id)]

    @app.get("/v1/flows/{flow}", summary="A flow: steps, dispositions, context schema",
             response_model=FlowOut, responses=responses())
    def get_flow(flow: str, caller: Caller) -> dict[str, Any]:
        found = svc.library.flow(flow)
        if found is None:
            raise ApiError(404, "Unknown flow", "no flow has this id; see GET /v1/flows",
                           [("flow", "is not a known flow")])
        return svc.library.describe(found)

    @app.post("/v1/calls", summary="Start a call",
              status_code=201, response_model=CallOut, responses=responses())
    def start_call(body: StartCall, caller: Caller, key: Key = None) -> JSONResponse:
        digest = operations.digest("POST", "/v1/calls", body.model_dump(mode="json"), None)
        return _reply(operations.start_call(svc, caller, body.flow, body.context, body.agent,
                                            key, digest))

    @app.get("/v1/calls", summary="List calls (paged)",
             response_model=Page[CallSummary], responses=responses())
    def list_calls(caller: Caller, agent: Annotated[str | None, Query(max_length=64)] = None,
                   status: Annotated[str | None, Query(
                       pattern="^(live|ended|abandoned|expired|erased)$")] = None,
                   cursor: CallCursor = None, limit: Limit = 50) -> dict[str, Any]:
        if caller.is_agent:
            if agent not in (None, caller.name):
                return {"items": [], "next_cursor": None}  # another agent's calls: none visible
            agent = caller.name
        with svc.engine.begin() as conn:
            rows = repo.list_calls(conn, agent, status, cursor or None, limit)
        items = [{**r._mapping, "disposition": r.outcome} for r in rows]
        return {"items": items, "next_cursor": rows[-1].id if len(rows) == limit else None}

    @app.get("/v1/calls/{call_id}", summary="A call's prompt; its revision is the ETag",
             response_model=CallOut, responses=responses(410))
    def get_call(call_id: str, caller: Caller) -> JSONResponse:
        return _reply(operations.read_call(svc, caller, call_id))

    @app.post("/v1/calls/{call_id}/turns", summary="Take a turn: answer, interrupt, hold, resume",
              response_model=CallOut, responses=responses(409, 410, 412, 428))
    def turn(call_id: str, body: Turn, caller: Caller, if_match: IfMatch = None,
             key: Key = None) -> JSONResponse:
        data = body.model_dump(mode="json")
        digest = operations.digest("POST", f"/v1/calls/{call_id}/turns", data, if_match)
        request = runtime.TurnRequest(type=data["type"], answer=data.get("answer"),
                                      interruption=data.get("interruption"),
                                      captures=data.get("captures"))
        return _reply(operations.take_turn(svc, caller, call_id, if_match, request, key, digest))

    @app.post("/v1/calls/{call_id}/abandon", summary="Abandon a live call",
              response_model=CallOut, responses=responses(409, 412))
    def abandon(call_id: str, caller: Caller, if_match: IfMatch = None) -> JSONResponse:
        return _reply(operations.abandon(svc, caller, call_id, if_match))

    @app.get("/v1/calls/{call_id}/record", summary="A call's record for the CRM",
             response_model=dict[str, Any], responses=responses(410))
    def get_record(call_id: str, caller: Caller) -> dict[str, Any]:
        return erasure.read_record(svc, caller, call_id)

    @app.get("/v1/follow-ups", summary="List open follow-ups (paged)",
             response_model=Page[FollowUpOut], responses=responses())
    def list_follow_ups(caller: Caller, due_before: date | None = None, cursor: Cursor = None,
                        limit: Limit = 50, include_done: bool = False) -> dict[str, Any]:
        after = _int_cursor(cursor)
        with svc.engine.begin() as conn:
            rows = repo.list_follow_ups(conn, caller.name if caller.is_agent else None,
                                        due_before, after, limit, include_done)
        items = [dict(r._mapping) for r in rows]
        return {"items": items, "next_cursor": str(rows[-1].id) if len(rows) == limit else None}

    @app.post("/v1/follow-ups/{follow_up_id}/done", summary="Mark a follow-up done",
              response_model=FollowUpOut, responses=responses())
    def follow_up_done(follow_up_id: Annotated[int, Path(ge=1, le=2**63 - 1)], caller: Caller
                       ) -> dict[str, Any]:
        with svc.engine.begin() as conn:
            row = repo.get_follow_up(conn, follow_up_id)
            if row is None or not caller.sees_call_of(row.agent):
                raise ApiError(404, "Unknown follow-up", None, [("id", "is not a follow-up you "
                                                                     "can see")])
            repo.mark_follow_up_done(conn, follow_up_id, caller.name, svc.clock())
            done = repo.get_follow_up(conn, follow_up_id)
        assert done is not None
        return dict(done._mapping)

    @app.get("/v1/events", summary="Read the event outbox (paged)",
             response_model=Page[EventOut], responses=responses())
    def list_events(caller: Caller, after: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
        reader(caller, "supervisor", "integrator")
        with svc.engine.begin() as conn:
            rows = repo.list_events(conn, _int_cursor(after), limit)
        items = [{**r._mapping, "detail": None if r.detail is None
                  else json.loads(svc.cipher.decrypt(r.detail))} for r in rows]
        last = str(rows[-1].id) if rows else after
        return {"items": items, "next_cursor": last}

    @app.delete("/v1/customers/{customer_ref}/personal-data", summary="Erase a customer's personal data",
                response_model=Erased, responses=responses(409))
    def erase(customer_ref: str, caller: Caller) -> dict[str, int]:
        return {"calls": erasure.erase_customer(svc, caller, customer_ref)}

    from callscript.service import worklist  # imported here: it uses this module's Caller

    worklist.register(app, svc)
    mount_console(app, svc)  # the agent console's pages at /
    return app


def _start_webhooks(svc: Service) -> webhooks.Sender | None:
    if svc.webhook is None:
        return None
    webhooks.ensure_cursor(svc.engine, svc.webhook)
    sender = webhooks.Sender(svc.engine, svc.library, svc.webhook)
    sender.start()
    return sender


def _stop_webhooks(sender: webhooks.Sender) -> None:
    sender.stop()
    sender.release()


def _int_cursor(cursor: str | None) -> int:
    return int(cursor) if cursor else 0  # the pattern in Cursor admits digits only


async def _sweeper(svc: Service, every: float = SWEEP_SECONDS,
                   run: Callable[..., Awaitable[Any]] = run_in_threadpool) -> None:
    """Expire idle calls now and then; a failed sweep (database away) is tried again later."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await run(operations.expire_idle, svc)
