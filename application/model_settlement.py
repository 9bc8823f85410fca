"""Carrying a finished model task's outcome over to its model, in the task's transaction
(called from `application/running/ending.py`, when a run ends)."""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from domain.errors import NotFoundError
from domain.model import DEPLOY_MODEL_TASK, VALIDATE_MODEL_TASK
from domain.task import Task, TaskStatus

MODEL_TASK_TYPES = frozenset({VALIDATE_MODEL_TASK, DEPLOY_MODEL_TASK})


def settle_model_task(uow: UnitOfWork, task: Task, *, at: datetime) -> None:
    """Move the model a terminal validate/deploy task worked on to where the outcome says.

    Completed: validated (size, sha256 from the result) or deployed (location). Failed:
    invalid or deployment_failed, with the error as reason. Cancelled: back to where the
    model came from. Other tasks, unfinished tasks and deleted models are left alone.
    """
    if task.model_id is None or task.task_type not in MODEL_TASK_TYPES or not task.is_terminal:
        return
    try:
        model = uow.models.get(task.model_id)
    except NotFoundError:
        return
    validating = task.task_type == VALIDATE_MODEL_TASK
    result = task.result if isinstance(task.result, dict) else {}
    reason = str(task.error) if task.error else "the task failed"
    if task.status is TaskStatus.CANCELLED:
        model.abandon_request(at=at)
    elif task.status is TaskStatus.COMPLETED and validating:
        model.mark_validated(size=int(result["size"]), sha256=str(result["sha256"]), at=at)
    elif task.status is TaskStatus.COMPLETED:
        model.mark_deployed(location=str(result["deployed_location"]), at=at)
    elif validating:
        model.mark_invalid(reason=reason, at=at)
    else:
        model.mark_deployment_failed(reason=reason, at=at)
    uow.models.update(model)
