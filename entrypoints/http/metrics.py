"""HTTP metrics (ADR 10): requests and their latency by route template, method and status,
counted by a pure ASGI middleware, and the /metrics route that exposes them."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Mapping
from pathlib import Path

import fastapi.routing
from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
# A client may send any word as a method: the others share one label value.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "taskhub_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "taskhub_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ("route", "method"),
            registry=registry,
        )


class HttpMetricsMiddleware:
    """Counts each request under the template of the route it matched, never its raw path,
    which carries ids; a request no route matched counts as "unmatched"."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, templates: Mapping[int, str]) -> None:
        self.app = app
        self._metrics = metrics
        self._templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = self._template(scope)
            method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
            self._metrics.requests.labels(route, method, str(status)).inc()
            self._metrics.duration.labels(route, method).observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        # Routing leaves the matched route in the scope, a method it does not allow too (405).
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        return self._templates.get(id(route)) or str(getattr(route, "path", UNMATCHED))


def install_metrics(app: FastAPI, *, token: str | None = None, serve: bool = True) -> None:
    """Add /metrics (outside /api/v1 and the OpenAPI document) and the middleware. Call it
    once every route is in place, so each one is known by its full template.

    With `token`, /metrics answers only a request bearing it (401 otherwise); with
    `serve=False` there is no /metrics route at all, while requests are still counted.

    With PROMETHEUS_MULTIPROC_DIR set, every process serving the app writes its counts there
    and /metrics answers for all of them; the process must build one app only.
    """
    multiprocess_dir = os.environ.get(MULTIPROC_DIR_ENV)
    if multiprocess_dir:
        Path(multiprocess_dir).mkdir(parents=True, exist_ok=True)
    metrics = HttpMetrics(CollectorRegistry())

    def exposition(request: Request) -> Response:
        if token is not None and not _bears(request, token):
            return Response(
                "metrics need the bearer token (TASKHUB_METRICS_TOKEN)\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="text/plain",
            )
        registry = metrics.registry
        if multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=multiprocess_dir)
        # The format the scraper asks for (text or OpenMetrics), as prometheus-client serves it.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    if serve:
        app.add_api_route(METRICS_PATH, exposition, methods=["GET"], include_in_schema=False)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics, templates=route_templates(app))


def _bears(request: Request, token: str) -> bool:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


def route_templates(app: FastAPI) -> dict[int, str]:
    """Each route's full path template, by the id of the route object routing puts in the
    scope. FastAPI >= 0.16x keeps included routers whole, so a route's own `path` lacks their
    prefixes; older versions flatten them into `app.routes`."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = contexts(app.routes) if contexts else app.routes
    return {id(getattr(r, "original_route", r)): r.path for r in routes if hasattr(r, "path")}
