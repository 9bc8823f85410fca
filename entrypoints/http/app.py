"""The FastAPI application factory; uvicorn calls `create_app` (factory mode), nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from entrypoints.container import Container, api_resources
from entrypoints.http.body_limit import install_body_limit
from entrypoints.http.metrics import install_metrics
from entrypoints.http.problems import PROBLEM_JSON, install_problem_handlers
from entrypoints.http.request_ids import RequestIdMiddleware
from entrypoints.http.routers import auth, health, models, task_types, tasks, users

API_PREFIX = "/api/v1"


def create_app(container: Container | None = None) -> FastAPI:
    container = container or Container()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with api_resources(container):
            yield

    app = FastAPI(
        title="taskhub",
        version="0.1.0",
        summary="Long-running background work over REST, run by Celery workers.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.container = container
    install_problem_handlers(app)
    install_body_limit(app, container.settings().max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, users, tasks, task_types, models, health):
        api.include_router(module.router)
    app.include_router(api)
    install_metrics(app)
    app.openapi = lambda: _openapi_with_problem_documents(app)  # type: ignore[method-assign]
    return app


_PROBLEM_REFS = {"#/components/schemas/Problem", "#/components/schemas/HTTPValidationError"}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


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
