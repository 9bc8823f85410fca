"""The task types this deployment can run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from application.ports import TaskTypeCatalog
from entrypoints.http.dependencies import CurrentUser, use_case
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.tasks import TaskTypeResponse

router = APIRouter(prefix="/task-types", tags=["tasks"])


@router.get("", operation_id="list_task_types", responses=problem_responses(401))
def list_task_types(
    user: CurrentUser, catalog: Annotated[TaskTypeCatalog, use_case("task_type_catalog")]
) -> list[TaskTypeResponse]:
    """Each task type a client may submit: its name, default queue and the JSON schema of its
    arguments."""
    return [
        TaskTypeResponse(
            name=spec.name,
            description=spec.description,
            queue=spec.default_priority.queue,
            default_priority=spec.default_priority,
            max_attempts=spec.max_attempts,
            soft_time_limit=spec.soft_time_limit,
            time_limit=spec.time_limit,
            arguments_schema=spec.arguments_schema,
        )
        for spec in catalog.all()
        if not spec.internal
    ]
