"""Runs stopped at their hard time limit, recorded by the worker's main process.

Celery kills the pool process of a task that outlives its `time_limit`, so the run can
record nothing; left alone, its task would stay running until the reaper took it for a
lost worker and ran it again, up to its max attempts. The main process is told instead
(Celery sends `task_failure` there with TimeLimitExceeded, before it kills the process;
twice in Celery 5.7, and the second finds the task failed already) and fails the task at
once, saying why. The soft limit needs none of this: it raises in
the run itself, where the task-types executor turns it into a failure that RunTask records
(adapters/task_types/executor.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure

from application.errors import DependencyUnavailableError
from application.use_cases.fail_overrun_task import FailOverrunTask
from domain.errors import ConflictError
from domain.task import TaskId
from entrypoints.container import TASK_NAME_PREFIX

logger = logging.getLogger(__name__)

Receiver = Callable[..., None]


def fail_runs_stopped_at_their_time_limit(
    fail_overrun_task: Callable[[], FailOverrunTask],
) -> Receiver:
    """Connect the receiver (for the process's lifetime) and return it."""

    def record(
        sender: Any = None, task_id: str | None = None, exception: Any = None, **_: Any
    ) -> None:
        # Only hard limits arrive as TimeLimitExceeded; a run's own errors never leave it.
        name = str(getattr(sender, "name", ""))
        if not isinstance(exception, TimeLimitExceeded) or not name.startswith(TASK_NAME_PREFIX):
            return
        limit = float(exception.args[0]) if exception.args else 0.0
        record_time_limit_failure(fail_overrun_task(), str(task_id), limit)

    task_failure.connect(record, weak=False)
    return record


def record_time_limit_failure(use_case: FailOverrunTask, task_id: str, limit: float) -> None:
    try:
        task = use_case.execute(TaskId(UUID(task_id)), limit_seconds=limit)
    except DependencyUnavailableError as exc:
        # The reaper takes the task back once its heartbeat is stale, as for a lost worker.
        logger.warning("could not fail task %s at its time limit: %s", task_id, exc)
        return
    except ConflictError:
        task = None  # the run ended between the read and the write
    if task is None:
        logger.debug("task %s at its time limit: no longer running, nothing to record", task_id)
    else:
        logger.warning("task %s failed: ran past its time limit (%gs)", task_id, limit)
