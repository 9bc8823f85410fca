"""Errors as RFC 9457 problem documents: one table from error class to status, one writer."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import (
    DependencyUnavailableError,
    SecretUnreadableError,
    TaskCancelledError,
    TooManyAttemptsError,
)
from domain.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's detail, with a 400
RETRY_AFTER_SECONDS = {QuotaExceededError: "30", DependencyUnavailableError: "5"}

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    DomainError: 400,
    ValidationError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    TaskCancelledError: 409,
    QuotaExceededError: 429,
    TooManyAttemptsError: 429,
    DependencyUnavailableError: 503,
    # A stored secret no configured key opens: the server's keys are at fault, not the call.
    SecretUnreadableError: 500,
}


def problem_type(code: str) -> str:
    return f"urn:taskhub:problem:{code}"


def status_for(error: DomainError) -> int:
    # The most specific entry wins, so a subclass can be mapped apart from its base.
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _headers_for(error: DomainError) -> dict[str, str]:
    headers = {}
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    for cls, seconds in RETRY_AFTER_SECONDS.items():
        if isinstance(error, cls):
            headers["Retry-After"] = seconds
    if isinstance(error, TooManyAttemptsError):
        headers["Retry-After"] = str(error.retry_after)
    return headers


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    extensions = {k: v for k, v in exc.context.items() if k not in ("type", "status")}
    if isinstance(exc, ValidationError):
        extensions["errors"] = [{"field": f, "message": m} for f, m in exc.field_errors]
    return problem(
        request,
        status=status_for(exc),
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=_headers_for(exc),
        **extensions,
    )


def _field_name(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    if error.get("type") == "json_invalid":
        return "body"  # the location is a character offset, not a field
    # FastAPI prefixes the source ('body', 'query', 'path'); clients know fields by name.
    parts = loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc
    # A list position reads as an index, as the use cases name them: tasks[3].kwargs.
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return name or str(loc[0])


def _message(error: dict[str, Any]) -> str:
    # A validator's ValueError carries the domain's own sentence; pydantic prefixes it.
    message: str = error["msg"]
    return message.removeprefix("Value error, ") if error.get("type") == "value_error" else message


async def request_validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_name(e), "message": _message(e)} for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(
        request,
        status=422,
        code="validation_error",
        title="Invalid input",
        detail=f"invalid value for: {fields}",
        errors=errors,
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == UNREADABLE_BODY:
        # A body FastAPI could not decode at all (not UTF-8, say) is as malformed as broken
        # JSON, and answered the same way: 422 naming the body.
        unreadable = {"type": "body_unreadable", "loc": ("body",), "msg": "body cannot be read"}
        return await request_validation_handler(request, RequestValidationError([unreadable]))
    phrase = HTTPStatus(exc.status_code).phrase
    code = phrase.lower().replace(" ", "_")
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem(
        request,
        status=exc.status_code,
        code=code,
        title=phrase,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(
        request,
        status=500,
        code="internal_error",
        title="Internal Server Error",
        detail="the server failed to handle this request; it has been logged",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
