"""The FastAPI application factory; uvicorn calls `create_app` (factory mode), nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from entrypoints.container import Container
from entrypoints.http.problems import install_problem_handlers
from entrypoints.http.routers import auth, health, models, task_types, tasks, users

API_PREFIX = "/api/v1"


def create_app(container: Container | None = None) -> FastAPI:
    container = container or Container()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        container.engine().dispose()

    app = FastAPI(
        title="taskhub",
        version="0.1.0",
        summary="Long-running background work over REST, run by Celery workers.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.container = container
    install_problem_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, users, tasks, task_types, models, health):
        api.include_router(module.router)
    app.include_router(api)
    return app
