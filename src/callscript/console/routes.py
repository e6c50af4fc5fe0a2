"""The console's pages: sign-in, the agent's calls, starting a call, the call screen.

Every change goes through the service's operations (start_call, take_turn): the same
transaction, revision and idempotency rules as the API, never a second code path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import desc, select

from callscript.console import i18n, supervisor, views, worklist
from callscript.console.sessions import COOKIE, Session, Signer, new_session, session_secret
from callscript.service import calls as runtime
from callscript.service import erasure, operations
from callscript.service.auth import User, hash_token
from callscript.service.problems import ApiError
from callscript.service.state import Service
from callscript.store import repo
from callscript.store.tables import calls

HERE = Path(__file__).parent
LANG_COOKIE = "callscript_lang"
TURN_TYPES = ("answer", "interrupt", "hold", "resume")
FormHandler = Callable[[Request, Session | None, dict[str, str]], Response]


class Console:
    def __init__(self, svc: Service, signer: Signer) -> None:
        self.svc, self.signer = svc, signer
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    # -- sessions ---------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        return self.signer.load(request.cookies.get(COOKIE))

    def user(self, session: Session | None) -> User | None:
        """The signed-in user, or None when signed out, the session is too old, or its token
        was removed or replaced since (a revoked token ends its sessions at once)."""
        if session is None or session.user is None or session.token_hash is None:
            return None
        if self.signer.expired(session):
            return None
        user = self.svc.users.lookup(session.token_hash)
        return user if user is not None and user.name == session.user else None

    def set_cookie(self, response: Response, request: Request, session: Session) -> None:
        response.set_cookie(COOKIE, self.signer.dump(session), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")

    @staticmethod
    def lang(request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return "en" if chosen == "en" else "zh-CN"

    def page(self, request: Request, name: str, status: int = 200,
             session: Session | None = None, user: User | None = None, **values: Any
             ) -> HTMLResponse:
        lang = self.lang(request)
        session = session or self.session(request) or new_session()
        context = {"w": i18n.words(lang), "lang": lang, "user": user,
                   "csrf": self.signer.csrf(session), **values}
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        if request.cookies.get(COOKIE) != self.signer.dump(session):
            self.set_cookie(response, request, session)
        if "lang" in request.query_params:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def to_signin(self, request: Request, lost: bool) -> Response:
        return RedirectResponse("/signin?lost=1" if lost else "/signin", status_code=303)

    def agent(self, request: Request) -> User | Response:
        """The signed-in agent, or where to send anyone else: sign-in, or the supervisor's
        page (agents' pages list an agent's own calls and worklist)."""
        user = self.user(self.session(request))
        if user is None:
            return self.to_signin(request, COOKIE in request.cookies)
        if not user.is_agent:
            return RedirectResponse("/supervisor", status_code=303)
        return user

    def refused(self, request: Request) -> HTMLResponse:
        return self.page(request, "message.html", 403, message=i18n.words(
            self.lang(request))["forbidden_csrf"])

    async def posted(self, request: Request) -> tuple[Session | None, dict[str, str]] | None:
        """The form of a POST and its session; None when its CSRF token is missing or wrong."""
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        session = self.session(request)
        if not self.signer.csrf_ok(session, values.get("csrf")):
            return None
        return session, values

    # -- pages ------------------------------------------------------------------------------

    def call_page(self, request: Request, user: User, call_id: str, status: int = 200,
                  **extra: Any) -> Response:
        try:
            reply = operations.read_call(self.svc, user, call_id)
        except ApiError as err:
            return self.page(request, "message.html", err.status, user=user,
                             message=i18n.words(self.lang(request))["not_found"]
                             if err.status == 404 else err.title)
        body = reply.body
        flow = self.svc.library.flow(body["flow"])
        prompt = body["prompt"]
        lang = self.lang(request)
        if body["status"] != "live" or prompt is None or flow is None or not user.is_agent:
            # the record; a supervisor or integrator reads a live call here too, without
            # its lines (they say the customer's name) and without taking turns
            record = erasure.read_record(self.svc, user, call_id)
            step = flow.steps.get(prompt["step"]) if flow is not None and prompt else None
            return self.page(request, "summary.html", status, user=user, call=body,
                             flow=flow, prompt=prompt if user.is_agent else None,
                             step_title=step.title if step is not None else None,
                             hang_up_first=bool(step and step.customer_hangs_up_first),
                             summary=views.summary(flow, record, lang) if flow else None)
        answers = extra.pop("answers", None) or views.answers(prompt)
        hold = prompt.get("hold")
        elapsed = None
        if hold is not None:
            since = datetime.fromisoformat(hold["since"])
            elapsed = max(0.0, (self.svc.clock() - since).total_seconds())
        hold_interruption = next((i for i in prompt["interruptions"] if i["id"] == "hold"), None)
        time_up_label = None
        if prompt["on_hold"] and flow is not None:
            step = flow.steps[prompt["step"]]
            if step.time_limit is not None:
                option = step.answers.get(step.time_limit[1])
                time_up_label = option.label if option is not None else None
        return self.page(request, "call.html", status, user=user, call=body, flow=flow,
                         prompt=prompt, answers=answers,
                         interruptions=views.interruptions(prompt),
                         hold_interruption=hold_interruption, elapsed=elapsed,
                         time_up_label=time_up_label, **extra)


def mount(app: FastAPI, svc: Service, secret: bytes | None = None) -> None:
    """Serve the console at / on the service's app."""
    console = Console(svc, Signer(secret or session_secret()))
    router = APIRouter(include_in_schema=False)
    app.mount("/static/console", StaticFiles(directory=str(HERE / "static")),
              name="console-static")

    @router.get("/")
    def home(request: Request) -> Response:
        user = console.user(console.session(request))
        if user is None:
            return console.to_signin(request, False)
        return RedirectResponse("/supervisor" if user.role == "supervisor" else "/calls",
                                status_code=303)

    @router.get("/signin")
    def signin_form(request: Request) -> Response:
        session = console.session(request)
        if session is None or session.user is not None:
            session = new_session()  # a fresh nonce: the old session's CSRF token is void
        return console.page(request, "signin.html", session=session,
                            lost=request.query_params.get("lost") == "1")

    def post_form(path: str) -> Callable[[FormHandler], FormHandler]:
        """A POST route: its form read and its CSRF token checked (403 without it), then the
        handler run in the thread pool, as FastAPI runs the API's (database) handlers."""
        def register(handler: FormHandler) -> FormHandler:
            async def endpoint(request: Request) -> Response:
                posted = await console.posted(request)
                if posted is None:
                    return console.refused(request)
                return await run_in_threadpool(handler, request, *posted)
            router.add_api_route(path, endpoint, methods=["POST"])
            return handler
        return register

    @post_form("/signin")
    def signin(request: Request, _session: Session | None, form: dict[str, str]) -> Response:
        token = form.get("token", "").strip()
        digest = hash_token(token) if token else ""
        row = None
        if token:
            with svc.engine.begin() as conn:
                row = repo.user_by_token(conn, digest)
        if row is None:
            return console.page(request, "signin.html", 401, session=new_session(), bad=True)
        response = RedirectResponse("/", status_code=303)
        console.set_cookie(response, request, new_session(row.name, digest))
        return response

    @post_form("/signout")
    def signout(request: Request, _session: Session | None, _form: dict[str, str]) -> Response:
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/calls")
    def my_calls(request: Request) -> Response:
        user = console.agent(request)
        if not isinstance(user, User):
            return user
        with svc.engine.begin() as conn:
            rows = conn.execute(select(calls.c.id, calls.c.flow, calls.c.status, calls.c.step,
                                       calls.c.created_at).where(calls.c.agent == user.name)
                                .order_by(desc(calls.c.id)).limit(100)).all()
        items = [_row_view(svc, r) for r in rows]
        flows = sorted(svc.library.flows.values(), key=lambda f: f.id)
        return console.page(request, "calls.html", user=user, items=items, flows=flows)

    @router.get("/calls/new")
    def new_call_form(request: Request, flow: str = "") -> Response:
        user = console.user(console.session(request))
        if user is None:
            return console.to_signin(request, COOKIE in request.cookies)
        found = svc.library.flow(flow)
        if found is None or not user.is_agent:
            return RedirectResponse("/calls", status_code=303)
        return console.page(request, "new_call.html", user=user, flow=found,
                            fields=views.context_fields(found))

    @post_form("/calls/new")
    def new_call(request: Request, session: Session | None, form: dict[str, str]) -> Response:
        user = console.user(session)
        if user is None:
            return console.to_signin(request, True)
        flow = svc.library.flow(form.get("flow", ""))
        if flow is None or not user.is_agent:
            return RedirectResponse("/calls", status_code=303)
        given = views.context_from_form(flow, form)
        key = _key(form)
        body = {"flow": flow.id, "context": given, "agent": None}
        digest = operations.digest("POST", "/v1/calls", body, None)
        try:
            reply = operations.start_call(svc, user, flow.id, given, None, key, digest)
        except ApiError as err:
            lang = console.lang(request)
            fields = views.context_fields(flow, form)
            general = views.context_errors(lang, fields, err.errors)
            return console.page(request, "new_call.html", 422 if err.status == 422 else
                                err.status, user=user, flow=flow, fields=fields,
                                general=general, failed=True)
        return RedirectResponse(f"/calls/{reply.body['id']}", status_code=303)

    @router.get("/calls/{call_id}")
    def show_call(request: Request, call_id: str) -> Response:
        user = console.user(console.session(request))
        if user is None:
            return console.to_signin(request, COOKIE in request.cookies)
        return console.call_page(request, user, call_id)

    @post_form("/calls/{call_id}/turn")
    def take_turn(request: Request, session: Session | None, form: dict[str, str]) -> Response:
        call_id = request.path_params["call_id"]
        user = console.user(session)
        if user is None:
            return console.to_signin(request, True)
        kind = form.get("type", "")
        if kind not in TURN_TYPES:
            return console.call_page(request, user, call_id, 422, refused=True)
        if_match = operations.etag(int(form["revision"])) if form.get(
            "revision", "").isdigit() else None
        captures = {name[4:]: value for name, value in form.items()
                    if name.startswith("cap.") and value.strip()}
        turn = runtime.TurnRequest(type=kind, answer=form.get("answer") or None,
                                   interruption=form.get("interruption") or None,
                                   captures=captures if kind in ("answer", "resume") else None)
        data = {"type": turn.type, "answer": turn.answer, "interruption": turn.interruption,
                "captures": turn.captures}  # as the API's digest sees a turn's body
        digest = operations.digest("POST", f"/v1/calls/{call_id}/turns", data, if_match)
        try:
            operations.take_turn(svc, user, call_id, if_match, turn, _key(form), digest)
        except ApiError as err:
            return _turn_refused(console, request, user, call_id, err, form)
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    supervisor.routes(router, console)
    worklist.routes(router, console, post_form)
    app.include_router(router)


def _turn_refused(console: Console, request: Request, user: User, call_id: str, err: ApiError,
                  form: Mapping[str, str]) -> Response:
    if err.status in (412, 428):
        return console.call_page(request, user, call_id, 412, conflict=True)
    if err.status == 409:
        return RedirectResponse(f"/calls/{call_id}", status_code=303)
    if err.status != 422:
        return console.call_page(request, user, call_id, err.status, refused=True)
    problems = [p for f, p in err.errors if f == "captures"]
    if not problems:
        return console.call_page(request, user, call_id, 422, refused=True)
    try:
        prompt = operations.read_call(console.svc, user, call_id).body["prompt"]
    except ApiError as again:
        return console.page(request, "message.html", again.status, user=user,
                            message=again.title)
    chosen = form.get("answer") or None
    answers = views.answers(prompt, form, chosen) if prompt else None
    target = next((a for a in answers or [] if a.id == chosen), None)
    general = views.capture_errors(console.lang(request), target, problems)
    return console.call_page(request, user, call_id, 422, answers=answers, chosen=chosen,
                             fix=True, general=general)


def _key(form: Mapping[str, str]) -> str | None:
    key = form.get("key", "").strip()
    return key if 1 <= len(key) <= 200 else None


def _row_view(svc: Service, row: Any) -> dict[str, Any]:
    flow = svc.library.flow(row.flow)
    step = flow.steps.get(row.step) if flow is not None else None
    return {"id": row.id, "flow": flow.title if flow is not None else row.flow,
            "status": row.status, "step": step.title if step is not None and step.title
            else row.step, "created_at": row.created_at}
