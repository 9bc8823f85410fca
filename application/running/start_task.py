"""The worker's claim: moving a delivered task from pending to running, exactly once per run."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.running.outcomes import TaskRun
from application.task_events import record_task_event
from application.workflows import upstream_of
from domain.event import EventKind
from domain.task import RunStart, RunToken, TaskId, WorkerId


def this_process() -> WorkerId:
    """The process a claim is made in: a pool process of a worker, when run by one."""
    return WorkerId(socket.gethostname(), os.getpid())


@dataclass(frozen=True, slots=True)
class StartTask:
    """Rules: only a pending task can be claimed, and the claim is a guarded write, so of
    two deliveries of one message (or a cancel racing the claim) exactly one wins.

    Raises NotFoundError (deleted), InvalidTransitionError (not pending: cancelled, already
    running elsewhere or finished). One statement claims the task without reading it first.
    """

    uow: UnitOfWork
    clock: Clock
    worker: Callable[[], WorkerId] = this_process

    def execute(self, task_id: TaskId) -> TaskRun:
        token = RunToken(secrets.token_hex(16))
        with self.uow:
            now = self.clock.now()
            task = self.uow.tasks.start_run(task_id, RunStart(token, now, self.worker()))
            record_task_event(self.uow, task, EventKind.STATUS, at=now)
            upstream = {key: u.as_json() for key, u in upstream_of(self.uow, task).items()}
            self.uow.commit()
        return TaskRun(
            task_id=task.id,
            run_token=token,
            task_type=task.task_type,
            queue=task.queue,
            args=list(task.args),
            kwargs=dict(task.kwargs),
            attempt=task.attempts,
            max_attempts=task.max_attempts,
            request_id=task.request_id,
            owner_id=task.user_id,
            upstream=upstream,
            upstream_bytes=len(json.dumps(upstream)) if upstream else 0,
            workflow_id=task.workflow_id,
        )
