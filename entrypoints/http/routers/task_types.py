"""The task types this deployment can run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from application.argument_limits import ArgumentLimits
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.tasks import TaskTypeResponse
from entrypoints.http.use_cases import ConfiguredArgumentLimits, InstalledTaskTypes

router = APIRouter(prefix="/task-types", tags=["tasks"])


@router.get("", operation_id="list_task_types", responses=problem_responses(401))
def list_task_types(
    user: CurrentUser,
    catalog: InstalledTaskTypes,
    limits: ConfiguredArgumentLimits,
) -> list[TaskTypeResponse]:
    """Each task type a client may submit: its name, default queue and the JSON schema of its
    arguments. The server's size and nesting limits on arguments apply on top of the schema:
    they are in `max_arguments_bytes`, `max_arguments_depth` and the schema's description."""
    return [
        TaskTypeResponse(
            name=spec.name,
            description=spec.description,
            queue=spec.default_priority.queue,
            default_priority=spec.default_priority,
            max_attempts=spec.max_attempts,
            soft_time_limit=spec.soft_time_limit,
            time_limit=spec.time_limit,
            max_arguments_bytes=limits.max_bytes,
            max_arguments_depth=limits.max_depth,
            arguments_schema=_with_limits(spec.arguments_schema, limits),
        )
        for spec in catalog.all()
        if not spec.internal
    ]


def _with_limits(schema: dict[str, Any], limits: ArgumentLimits) -> dict[str, Any]:
    """The schema, its description ending with the limits a client cannot read from it."""
    described = schema.get("description", "").rstrip()
    note = f"Limits: {limits.describe()}."
    return {**schema, "description": f"{described}\n\n{note}" if described else note}
