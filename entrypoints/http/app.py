"""The FastAPI application factory; uvicorn calls `create_app` (factory mode), nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from entrypoints.api_container import ApiContainer, api_resources, close_event_streams
from entrypoints.container import Environment
from entrypoints.garbage_collection import set_startup_aside
from entrypoints.http.api_docs import install_api_docs
from entrypoints.http.body_limit import install_body_limit
from entrypoints.http.console.pages import install_console
from entrypoints.http.metrics import install_metrics
from entrypoints.http.problems import PROBLEM_JSON, install_problem_handlers
from entrypoints.http.query_parameters import refuse_unknown_query_parameters
from entrypoints.http.request_ids import RequestIdMiddleware
from entrypoints.http.routers import (
    admin_queues,
    auth,
    events,
    health,
    models,
    schedules,
    task_history,
    task_types,
    tasks,
    users,
    webhooks,
    workflows,
)
from entrypoints.http.security_headers import SecurityHeadersMiddleware
from entrypoints.malloc_arenas import FreedMemoryReturner
from entrypoints.tracing import start_tracing, trace_api

API_PREFIX = "/api/v1"


def create_served_app() -> FastAPI:
    """The app `taskhub api` serves: once it has started, what startup built is set aside
    from the garbage collector's work and freed heap is handed back after busy spells;
    both are the process's, so not for the tests' apps, which come and go in one."""
    app = create_app()
    app.state.served = True
    return app


def create_app(container: ApiContainer | None = None) -> FastAPI:
    container = container or ApiContainer()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        freed_memory = FreedMemoryReturner()
        with api_resources(container):
            if getattr(app.state, "served", False):
                set_startup_aside()
                freed_memory.start()
            try:
                yield
            finally:
                await close_event_streams(container)
                freed_memory.stop()

    settings = container.core.settings()
    # In production the docs and the OpenAPI document are off unless asked for: a map of
    # every route is no help to a caller who has no account.
    docs = settings.serves_api_docs
    app = FastAPI(
        title="taskhub",
        version="0.1.0",
        summary="Long-running background work over REST, run by Celery workers.",
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        # Served by install_api_docs, from the API's own files rather than a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    install_problem_handlers(app)
    install_body_limit(app, settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(refuse_unknown_query_parameters)])
    # Routes are matched in this order, one by one: the tasks' routes, most of the traffic,
    # first (a POST /tasks went through 454 fewer Python calls matching its route, cProfile).
    routers = (
        tasks,
        auth,
        users,
        task_history,
        task_types,
        models,
        schedules,
        workflows,
        webhooks,
        health,
        admin_queues,
    )
    for module in routers:
        api.include_router(module.router)
    api.include_router(events.router)
    app.include_router(api)
    install_console(app)
    if docs:
        install_api_docs(app, openapi_url=f"{API_PREFIX}/openapi.json")
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    production = settings.environment is Environment.PRODUCTION
    install_metrics(app, token=token, serve=token is not None or not production)
    _allow_cross_origin_calls(app, settings.cors_origins)
    app.openapi = lambda: _openapi_with_problem_documents(app)  # type: ignore[method-assign]
    if start_tracing(settings.otel_exporter, service_name="taskhub-api"):
        trace_api(app, container.core.engine())
    return app


_PROBLEM_REFS = {"#/components/schemas/Problem", "#/components/schemas/HTTPValidationError"}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _allow_cross_origin_calls(app: FastAPI, origins: list[str]) -> None:
    """Browser front-ends on the origins listed may call the API with a bearer token. Added
    last, so it is the outermost layer: refusals (413, problem documents) carry its headers
    too, and a browser can show them. Nothing is added without origins: same-origin only."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        # Bearer tokens, not cookies: no credentials mode needed.
        allow_headers=[
            "Authorization",
            "Content-Type",
            "X-Request-ID",
            "Idempotency-Key",
            "Last-Event-ID",
        ],
        expose_headers=["X-Request-ID", "Retry-After", "WWW-Authenticate", "Idempotent-Replayed"],
        max_age=600,
    )


def _openapi_with_problem_documents(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents every response as application/json; errors are problem documents."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" in operation:  # the body cap applies to every body
                operation["responses"]["413"] = {
                    "description": "The request body is over the size limit",
                    "content": dict(_PROBLEM_CONTENT),
                }
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref")
                if ref in _PROBLEM_REFS:
                    del content["application/json"]
                    content.update(_PROBLEM_CONTENT)
    app.openapi_schema = schema
    return schema
