"""RFC 9457 problem details: every error the API returns, and the handlers that make them.

A problem names the field at fault and never holds an input value or a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from callscript.store.crypto import DataKeyError

log = logging.getLogger("callscript.service")
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


class FieldError(BaseModel):
    field: str = Field(description="Where in the request: a body path, a header or a parameter")
    problem: str


class Problem(BaseModel):
    """An error (RFC 9457). Never holds a value from the request."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None,
                 errors: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        self.status, self.title, self.detail = status, title, detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(title)


def problem_response(status: int, title: str, detail: str | None = None,
                     errors: Sequence[tuple[str, str]] = (),
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail,
                   errors=[FieldError(field=f, problem=p) for f, p in errors])
    return JSONResponse(body.model_dump(mode="json"), status_code=status,
                        media_type=PROBLEM_JSON, headers=dict(headers or {}))


_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 406: "Not acceptable", 409: "Conflict", 410: "Gone",
           412: "Precondition failed", 413: "Request body too large",
           415: "Unsupported media type", 422: "Unprocessable request",
           428: "Precondition required", 500: "Internal error", 503: "Service unavailable"}


def _field(loc: Sequence[Any]) -> str:
    kind, *rest = loc or ("body",)
    path = ".".join(str(p) for p in rest)
    if kind == "body":
        return path or "body"
    return f"{kind} {path}" if path else str(kind)


def install(app: FastAPI) -> None:
    """Problem responses for every error, FastAPI's own included."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, err: ApiError) -> JSONResponse:
        return problem_response(err.status, err.title, err.detail, err.errors, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input; this names the fields only
        errors = sorted({("body", "is not valid JSON") if e.get("type") == "json_invalid"
                         else (_field(e.get("loc", ())), str(e.get("msg", "invalid")))
                         for e in err.errors()})
        return problem_response(422, "Invalid request", "see errors for the fields at fault",
                                errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(err.status_code, "Error")
        return problem_response(err.status_code, title, None, (), err.headers)

    @app.exception_handler(OperationalError)  # cannot connect, server gone, locked too long
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)  # every connection busy
    async def _database(_request: Request, err: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(err).__name__)
        return problem_response(503, "Database unavailable", "try again shortly",
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(DataKeyError)
    async def _key(_request: Request, err: DataKeyError) -> JSONResponse:
        log.error("data key: %s", err)
        return problem_response(500, "Stored data cannot be decrypted",
                                "the service's data key does not match the store")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
        log.error("unexpected %s", type(err).__name__)  # no message: it may hold data
        return problem_response(500, "Internal error")


# documented on every route, so clients and schemathesis know them
COMMON: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": _TITLES[code],
           "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for code in (401, 403, 404, 413, 422, 503)
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    extra: dict[int | str, dict[str, Any]] = {code: {"model": Problem, "description": _TITLES[code],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
             for code in codes}
    return {**COMMON, **extra}
