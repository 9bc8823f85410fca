"""Queues, for operators and autoscalers: GET /admin/queues."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from application.use_cases.describe_queues import QueueReport
from entrypoints.http.dependencies import AdminUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.use_cases import DescribeQueuesUseCase

router = APIRouter(prefix="/admin", tags=["admin"])


class QueueResponse(BaseModel):
    queue: str
    depth: int | None = Field(
        description="Messages on the broker; null when the broker cannot be read."
    )
    unclaimed: int = Field(
        description="Published tasks no worker has claimed: on the broker or reserved by a "
        "worker's prefetch."
    )
    running: int
    total_work: int = Field(description="unclaimed + running: what to scale workers on.")
    oldest_pending_seconds: float | None = Field(
        description="Age of the oldest pending task, held ones included; null when none."
    )
    held: dict[str, int] = Field(description="Pending tasks held back unpublished, per reason.")
    workers_online: int | None = Field(
        description="Workers consuming the queue that answered just now; null when the "
        "workers cannot be asked."
    )

    @classmethod
    def of(cls, report: QueueReport) -> QueueResponse:
        return cls(
            queue=report.queue,
            depth=report.depth,
            unclaimed=report.unclaimed,
            running=report.running,
            total_work=report.total_work,
            oldest_pending_seconds=report.oldest_pending_seconds,
            held=report.held,
            workers_online=report.workers_online,
        )


class QueuesResponse(BaseModel):
    items: list[QueueResponse]


@router.get(
    "/queues", operation_id="describe_queues", responses=problem_responses(401, 403, 422, 503)
)
def describe_queues(admin: AdminUser, describe: DescribeQueuesUseCase) -> QueuesResponse:
    """Every queue's load: broker depth, unclaimed, running, held back, oldest pending, and
    the workers online that consume it."""
    return QueuesResponse(items=[QueueResponse.of(r) for r in describe.execute(admin)])
