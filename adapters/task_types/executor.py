"""The task types' side of a run: parse the arguments, call the function, judge what it did."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from adapters.task_types.registry import TaskType, TaskTypeRegistry
from application.errors import TaskCancelledError
from application.ports import TaskContext, TaskExecutor
from application.running.outcomes import Completed, Execution, Failed, Retried, TaskRun
from domain.errors import DomainError

logger = logging.getLogger(__name__)

RESULT_NOT_SERIALIZABLE = "ResultNotSerializable"
TIME_LIMIT_EXCEEDED = "TimeLimitExceeded"


@dataclass(frozen=True)
class TaskTypeExecutor(TaskExecutor):
    """Errors the task type lists in `retry_on` are retried with its backoff; any other
    error fails the run. The result must be JSON: it is serialized here, once, so that a
    result the database could not store fails the run with ResultNotSerializable instead
    of failing the write of the outcome."""

    registry: TaskTypeRegistry

    def execute(self, run: TaskRun, context: TaskContext) -> Execution:
        task_type: TaskType | None = None
        try:
            task_type = self.registry.task_type(run.task_type)
            arguments = self.registry.parse(run.task_type, run.args, run.kwargs)
            result = task_type.function(context, arguments)
        except TaskCancelledError:
            raise
        except SoftTimeLimitExceeded:
            # Raised inside the function by the worker's pool (celery's soft_time_limit).
            limit = task_type.soft_time_limit if task_type else None
            return Failed(TIME_LIMIT_EXCEEDED, f"ran past its soft time limit ({limit}s)")
        except Exception as exc:
            message = exc.detail if isinstance(exc, DomainError) else str(exc)
            if task_type and isinstance(exc, task_type.retry_on):
                return Retried(type(exc).__name__, message, task_type.backoff(run.attempt))
            if isinstance(exc, DomainError):
                # The caller's input was at fault (bad arguments, a missing file): expected,
                # so one line, no traceback; the task's error tells the caller why.
                logger.info("task %s (%s) failed: %s", run.task_id, run.task_type, message)
            else:
                logger.exception("task %s (%s) raised", run.task_id, run.task_type)
            return Failed(type(exc).__name__, message)
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            return Failed(RESULT_NOT_SERIALIZABLE, str(exc))
        return Completed(result)
