"""``GET /v1/worklist``: what ``callscript plan --db`` last planned for a day.

An agent reads their own rows; supervisors and integrators anyone's. The context
is the body's ``context`` for ``POST /v1/calls`` (the customer's parts: the service
fills the agent and the deployment), decrypted for the agent who makes the call and
for integrators; supervisors, who do not make calls, get its sensitive fields masked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row

from callscript.privacy import mask
from callscript.service.app import Caller, Limit
from callscript.service.auth import User
from callscript.service.problems import ApiError, responses
from callscript.service.state import Service
from callscript.store import worklist_repo

PlanCursor = Annotated[str | None, Query(pattern=r"^([0-9a-f]{32}\.[0-9]{1,9})?$",
                                         description="next_cursor of the last page")]


class WorklistRow(BaseModel):
    seq: int = Field(description="The row's place in the plan (agent, window, priority)")
    customer_ref: str
    flow: str = Field(description="The flow to start: a flow id from GET /v1/flows")
    reason: str = Field(description="Why this customer is called, in Chinese")
    priority: int
    window_start: str = Field(description="ISO 8601 with the policy's offset")
    window_end: str
    attempt: int = Field(description="Which attempt at this flow for this customer")
    agent_id: str | None = Field(description="The agent who calls; null: not assigned")
    context: dict[str, Any] = Field(description=(
        "The context for POST /v1/calls (the customer's parts; the service fills agent and "
        "deployment); sensitive fields masked for supervisors"))


class WorklistPage(BaseModel):
    day: date
    plan_id: str | None = Field(description="The day's plan; null when nothing was planned")
    planned_at: datetime | None
    calendar_estimated: bool = Field(description=(
        "The day is past the years the official calendar publishes: planned Monday to Friday"))
    items: list[WorklistRow]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; None at the end")


def today(svc: Service, conn: Connection) -> date:
    """Today where the plans are made: in the time zone of the plan made last (else UTC)."""
    latest = worklist_repo.latest_plan(conn)
    now = svc.clock()
    return now.astimezone(ZoneInfo(latest.timezone)).date() if latest is not None else now.date()


def row_context(svc: Service, user: User, row: Row[Any]) -> dict[str, Any]:
    if row.context is None:
        return {}
    data: dict[str, Any] = json.loads(svc.cipher.decrypt(row.context))
    flow = svc.library.flow(row.flow)
    if user.role != "supervisor":
        return data
    sensitive = {p for p, f in flow.schema.fields.items() if f.sensitive} if flow else None
    return {part: {name: _masked(value, sensitive is None or f"{part}.{name}" in sensitive)
                   for name, value in fields.items()} if isinstance(fields, Mapping) else fields
            for part, fields in data.items()}


def _masked(value: Any, sensitive: bool) -> Any:
    return mask(value) if sensitive and value is not None else value


def read_page(svc: Service, user: User, agent: str | None, on: date | None, cursor: str | None,
              limit: int) -> dict[str, Any]:
    if user.is_agent:
        if agent not in (None, user.name):
            raise ApiError(403, "Forbidden", "an agent reads their own worklist",
                           [("agent", "must be your own user name or left out")])
        agent = user.name
    with svc.reads.begin() as conn:
        day = on or today(svc, conn)
        plan = worklist_repo.plan_of_day(conn, day)
        if plan is None:
            if cursor:
                raise ApiError(409, "Worklist planned again", "this day has no plan now; read "
                               "it from the start", [("cursor", "is from another plan")])
            return {"day": day, "plan_id": None, "planned_at": None, "calendar_estimated": False,
                    "items": [], "next_cursor": None}
        after = 0
        if cursor:
            plan_id, _, seq = cursor.partition(".")
            if plan_id != plan.id:
                raise ApiError(409, "Worklist planned again", "the day's worklist was replaced "
                               "since the last page; read it from the start",
                               [("cursor", "is from a replaced plan")])
            after = int(seq)
        rows = worklist_repo.plan_rows(conn, plan.id, agent, after, limit)
    items = [{**{c: getattr(r, c) for c in ("seq", "customer_ref", "flow", "reason", "priority",
                                            "window_start", "window_end", "attempt", "agent_id")},
              "context": row_context(svc, user, r)} for r in rows]
    return {"day": day, "plan_id": plan.id, "planned_at": plan.planned_at,
            "calendar_estimated": plan.calendar_estimated, "items": items,
            "next_cursor": f"{plan.id}.{rows[-1].seq}" if len(rows) == limit else None}


# a context the service's key cannot decrypt (stored with another key): problems.install's 500
_RESPONSES = responses(409, 500)
_RESPONSES[500] = {**_RESPONSES[500], "description": (
    "Stored data cannot be decrypted: the service's data key does not match the stored plan")}


def register(app: FastAPI, svc: Service) -> None:
    @app.get("/v1/worklist", summary="The day's worklist, as last planned (paged)",
             response_model=WorklistPage, responses=_RESPONSES)
    def get_worklist(caller: Caller, agent: Annotated[str | None, Query(
                         min_length=1, max_length=64, description=(
                             "An agent's user name; an agent's own if left out (agents read "
                             "only their own)"))] = None,
                     on: Annotated[str | None, Query(
                         pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", examples=["2026-11-27"],
                         description="The day, YYYY-MM-DD; default: today in the plan's "
                                     "time zone")] = None,
                     cursor: PlanCursor = None, limit: Limit = 50) -> dict[str, Any]:
        return read_page(svc, caller, agent, _day(on), cursor, limit)


def _day(text: str | None) -> date | None:
    """The query's day: exactly YYYY-MM-DD (the pattern), and a day that exists."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "Invalid request", "on is not a day of the calendar",
                       [("query on", "must be a day that exists, as YYYY-MM-DD")]) from None
