"""A cap on request bodies, enforced before anything parses them: a declared Content-Length
over the cap is refused unread, and a body sent without one (chunked) is counted as it
streams in and refused the moment it goes over."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import problem


class BodyTooLargeError(StarletteHTTPException):
    # An HTTPException, so that FastAPI lets it through from the body reader (it turns any
    # other error there into a 400) and the handler below writes the problem document.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")
        self.limit = limit


async def body_too_large_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLargeError)
    return problem(
        request,
        status=413,
        code="body_too_large",
        title="Request body too large",
        detail=str(exc.detail),
        limit=exc.limit,
    )


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            refusal = BodyTooLargeError(self.max_bytes)
            response = await body_too_large_handler(Request(scope), refusal)
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # A malformed length is the server's to refuse (uvicorn answers 400 itself).
            return int(value) if value.isdigit() else 0
    return 0


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    app.add_exception_handler(BodyTooLargeError, body_too_large_handler)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_bytes)
