"""Response headers that keep browsers and caches from doing more with an answer than
showing it: nothing stored, nothing sniffed, never framed."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every API answer is someone's data (tasks, users) or a credential (the login's token):
# no cache, shared or private, may keep one.
HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    # Only frame-ancestors: the interactive docs (/docs, /redoc) start with an inline script.
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),  # the same, for browsers that predate CSP 2
    (b"referrer-policy", b"no-referrer"),
)
_NAMES = {name for name, _ in HEADERS}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                # A response with a policy of its own (the console's pages) keeps it.
                keep = {n.lower() for n, _ in own} & {b"content-security-policy"}
                headers = [(n, v) for n, v in own if n.lower() not in _NAMES - keep]
                message["headers"] = [*headers, *(h for h in HEADERS if h[0] not in keep)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
