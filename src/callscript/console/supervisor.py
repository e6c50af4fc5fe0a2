"""The supervisor's page: live calls with their step and hold time, follow-ups due, escalations.

Supervisors see no customer's personal data here: call ids, agents, steps, due dates.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import desc, select

from callscript.console import i18n
from callscript.console.sessions import COOKIE
from callscript.store import repo
from callscript.store.tables import events

if TYPE_CHECKING:
    from callscript.console.routes import Console

RECENT = 50


def overview(console: Console, lang: str) -> dict[str, Any]:
    svc = console.svc
    now = svc.clock()
    with svc.engine.begin() as conn:
        live = repo.list_calls(conn, None, "live", None, 200)
        # due today or tomorrow (the service's day: UTC)
        due = repo.list_follow_ups(conn, None, (now + timedelta(days=2)).date(), 0, 200, False)
        raised = conn.execute(select(events).where(events.c.kind.in_(("escalated", "complaint")))
                              .order_by(desc(events.c.id)).limit(RECENT)).all()
    calls = []
    for row in live:
        flow = svc.library.flow(row.flow)
        step = flow.steps.get(row.step) if flow is not None else None
        held = step is not None and step.time_limit is not None
        calls.append({"id": row.id, "agent": row.agent,
                      "flow": flow.title if flow else row.flow,
                      "step": step.title if step is not None and step.title else row.step,
                      "hold_seconds": int((now - row.updated_at).total_seconds()) if held
                      else None})
    raised_items = []
    for ev in raised:
        detail = json.loads(svc.cipher.decrypt(ev.detail)) if ev.detail else {}
        raised_items.append({"call": ev.call_id, "kind": ev.kind, "at": ev.at,
                             "reason": detail.get("reason") if ev.kind == "escalated" else None,
                             "reply_due": detail.get("reply_due"), "step": ev.step})
    due_items = [{**r._mapping, "kind": i18n.pick(lang, i18n.FOLLOW_UP_KINDS.get(
        r.kind, (r.kind, r.kind)))} for r in due]
    return {"calls": calls, "due": due_items, "raised": raised_items, "now": now}


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/supervisor")
    def supervisor_view(request: Request) -> Response:
        user = console.user(console.session(request))
        if user is None:
            return console.to_signin(request, COOKIE in request.cookies)
        if user.is_agent:
            return console.page(request, "message.html", 403, user=user,
                                message=i18n.words(console.lang(request))["no_rights"])
        return console.page(request, "supervisor.html", user=user, **overview(console, console.lang(request)))
