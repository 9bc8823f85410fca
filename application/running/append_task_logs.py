"""A running task's log lines, kept with the task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.ports import UnitOfWork
from application.task_events import record_log_event
from domain.attempt import TaskLogLine
from domain.task import RunToken, TaskId


@dataclass(frozen=True, slots=True)
class AppendTaskLogs:
    """Rules: only the current run may add lines (a run ended elsewhere writes nothing more);
    a task keeps its newest `keep` lines, the oldest go first. The lines written together
    are one `log` event in the owner's event sequence.

    Raises StaleRunError, NotFoundError (deleted).
    """

    uow: UnitOfWork
    keep: int = 1000

    def execute(self, task_id: TaskId, run_token: RunToken, lines: Sequence[TaskLogLine]) -> None:
        if not lines:
            return
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.ensure_current_run(run_token)
            numbered = self.uow.task_logs.append(lines, keep=self.keep)
            # Live in the task's event stream too, so a follower needs no polling.
            record_log_event(self.uow, task, numbered, at=lines[-1].logged_at)
            self.uow.commit()
