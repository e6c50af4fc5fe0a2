"""The agent's worklist for today (as ``callscript plan --db`` last planned it), and starting
a row's call with its context through the service's start_call, as the start form does.

The list shows the customer's name and a masked phone, the reason, the flow's title, the
window and the attempt; the full context never reaches the page (the call screen says
what the agent needs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from callscript.console import i18n
from callscript.console.sessions import Session
from callscript.privacy import mask
from callscript.service import operations
from callscript.service.auth import User
from callscript.service.problems import ApiError
from callscript.store import worklist_repo

if TYPE_CHECKING:
    from callscript.console.routes import Console, FormHandler

SHOWN = 200  # rows on the page: an agent's day is well under this


def _window(row: Any) -> str:
    start, end = (datetime.fromisoformat(row.window_start), datetime.fromisoformat(row.window_end))
    return f"{start:%H:%M}–{end:%H:%M}"


def _item(console: Console, user: User, row: Any) -> dict[str, Any]:
    svc = console.svc
    context = json.loads(svc.cipher.decrypt(row.context)) if row.context else {}
    customer = context.get("customer") or {}
    flow = svc.library.flow(row.flow)
    name = f"{customer.get('name') or ''}{customer.get('title') or ''}"
    phone = customer.get("phone")
    return {"seq": row.seq, "reason": row.reason, "flow": flow.title if flow else row.flow,
            "window": _window(row), "window_start": row.window_start, "attempt": row.attempt,
            "customer": name, "phone": mask(phone) if phone else ""}


def today_rows(console: Console, user: User) -> dict[str, Any]:
    from callscript.service.worklist import today  # imports the app, which imports the console

    svc = console.svc
    with svc.reads.begin() as conn:
        day = today(svc, conn)
        plan = worklist_repo.plan_of_day(conn, day)
        rows = worklist_repo.plan_rows(conn, plan.id, user.name, 0, SHOWN) if plan else []
    return {"day": day, "plan": plan, "items": [_item(console, user, r) for r in rows]}


def routes(router: APIRouter, console: Console,
           post_form: Callable[[str], Callable[[FormHandler], FormHandler]]) -> None:
    svc = console.svc

    @router.get("/worklist")
    def my_worklist(request: Request) -> Response:
        user = console.agent(request)
        if not isinstance(user, User):
            return user
        return console.page(request, "worklist.html", user=user, **today_rows(console, user))

    @post_form("/worklist/start")
    def start(request: Request, session: Session | None, form: dict[str, str]) -> Response:
        user = console.user(session)
        if user is None:
            return console.to_signin(request, True)
        words = i18n.words(console.lang(request))
        seq = form.get("seq", "")
        row = None
        if user.is_agent and seq.isdigit() and len(seq) <= 9:
            with svc.reads.begin() as conn:
                row = worklist_repo.plan_row(conn, form.get("plan", ""), int(seq))
        if row is None or row.agent_id != user.name:
            return console.page(request, "message.html", 404, user=user,
                                message=words["not_in_worklist"])
        context = json.loads(svc.cipher.decrypt(row.context)) if row.context else {}
        # one row, one call: starting it twice (a double press, a retry) gives the same call
        key = f"worklist:{row.plan_id}:{row.seq}"
        digest = operations.digest("POST", "/v1/calls", {"flow": row.flow, "context": context,
                                                         "agent": None}, None)
        try:
            reply = operations.start_call(svc, user, row.flow, context, None, key, digest)
        except ApiError as err:
            why = {"Invalid context": words["row_context_invalid"],
                   "Flow does not apply": words["flow_not_applicable"]}.get(err.title, err.title)
            return console.page(request, "worklist.html", err.status, user=user, failed=why,
                                **today_rows(console, user))
        return RedirectResponse(f"/calls/{reply.body['id']}", status_code=303)

