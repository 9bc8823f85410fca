"""How a console page is answered: a Jinja2 template rendered with the signed-in user and
the CSRF token, the console's Content-Security-Policy on every answer, and a domain error
shown as a page with the REST API's status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.errors import DomainError
from entrypoints.http.console.session import CSRF_FIELD, csrf_token, remember_csrf
from entrypoints.http.problems import status_for

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
POLL_SECONDS = 2  # how often a page with unfinished tasks asks for their state again
# No inline script or style anywhere: scripts and styles come from the API itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": getattr(request.state, "user", None),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "poll_seconds": POLL_SECONDS,
            **(context or {}),
        },
        status_code=status,
    )
    remember_csrf(request, response)
    return response


class ConsoleRoute(APIRoute):
    """A route whose domain errors are shown as a page (status as on the REST API), and
    whose answers carry the console's Content-Security-Policy."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except DomainError as error:
                response = render(
                    request,
                    "error.html",
                    {"title": error.title, "detail": error.detail},
                    status=status_for(error),
                )
            response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
            return response

        return handle


def is_fragment(request: Request) -> bool:
    """htmx asks for the live part of a page only (polling)."""
    return request.headers.get("hx-request") == "true"


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def console_router() -> APIRouter:
    """A router of console pages: under /ui, out of the OpenAPI document, errors as pages."""
    return APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)
