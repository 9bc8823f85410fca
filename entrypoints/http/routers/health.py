"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from application.use_cases.check_readiness import CheckReadiness
from entrypoints.http.dependencies import use_case

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
def ready(check: Annotated[CheckReadiness, use_case("check_readiness")]) -> JSONResponse:
    """Whether the database and the broker answer; 503 names what is down."""
    readiness = check.execute()
    body = ReadinessResponse(
        status="ok" if readiness.ready else "unavailable", checks=readiness.checks
    )
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
