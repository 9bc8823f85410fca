"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from entrypoints.container import Environment
from entrypoints.http.use_cases import CheckReadinessUseCase

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    status: str = "ok"


class ReadinessResponse(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/live", operation_id="live")
def live() -> Liveness:
    """The process answers; says nothing about its dependencies."""
    return Liveness()


@router.get(
    "/ready",
    operation_id="ready",
    response_model=ReadinessResponse,
    responses={503: {"model": ReadinessResponse, "description": "Something is down"}},
)
def ready(request: Request, check: CheckReadinessUseCase) -> JSONResponse:
    """Whether the database and the broker answer; 503 names what is down (and, outside
    production, why)."""
    readiness = check.execute()
    checks = readiness.checks
    for name, state in checks.items():
        if state != "ok":
            logger.warning("not ready: %s is down: %s", name, state)
    if request.app.state.container.core.settings().environment is Environment.PRODUCTION:
        # The driver's error text names hosts, ports and users: the logs have it.
        checks = {name: "ok" if state == "ok" else "unavailable" for name, state in checks.items()}
    body = ReadinessResponse(status="ok" if readiness.ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
