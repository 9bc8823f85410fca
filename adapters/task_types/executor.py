"""The task types' side of a run: parse the arguments, call the function, judge what it did."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from adapters.task_types.registry import TaskType, TaskTypeRegistry
from application.errors import TaskCancelledError
from application.ports import SecretCipher, TaskContext, TaskExecutor
from application.running.outcomes import Completed, Execution, Failed, Retried, TaskRun
from application.secret_values import NO_ENCRYPTION_KEY, SecretSealing
from domain.errors import DomainError
from domain.task import clip_traceback

logger = logging.getLogger(__name__)

RESULT_NOT_SERIALIZABLE = "ResultNotSerializable"
TIME_LIMIT_EXCEEDED = "TimeLimitExceeded"
DEFAULT_TRACEBACK_LIMIT = 16 * 1024


class _RunLog(logging.Handler):
    """Hands what the task's module logs on the run's thread to the task's log; other
    threads' records (a watchdog, a library's pool) are not the run's."""

    def __init__(self, context: TaskContext) -> None:
        super().__init__()
        self._context = context
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            level = record.levelname.lower()
            self._context.log(message, level=level if level != "notset" else "info")
        except Exception:  # logging must never end a run
            self.handleError(record)


@contextmanager
def _capturing(module: str, context: TaskContext) -> Iterator[None]:
    handler = _RunLog(context)
    target = logging.getLogger(module)
    target.addHandler(handler)
    try:
        yield
    finally:
        target.removeHandler(handler)


@dataclass(frozen=True)
class TaskTypeExecutor(TaskExecutor):
    """Errors the task type lists in `retry_on` are retried with its backoff; any other
    error fails the run. The result must be JSON: it is serialized here, once, so that a
    result the database could not store fails the run with ResultNotSerializable instead
    of failing the write of the outcome. An error raised by the function keeps its
    traceback, its last `traceback_limit` characters; a domain error (the caller's input
    was at fault) has none. What the function's module logs through `logging` during the
    run goes to the task's log too.

    Secret arguments are opened here, in the process that runs the task, and nowhere else;
    one no key opens fails the run (SecretUnreadableError), never retried. A result the type
    marks secret is sealed before it leaves."""

    registry: TaskTypeRegistry
    traceback_limit: int = DEFAULT_TRACEBACK_LIMIT
    cipher: SecretCipher = NO_ENCRYPTION_KEY

    def execute(self, run: TaskRun, context: TaskContext) -> Execution:
        task_type: TaskType | None = None
        try:
            task_type = self.registry.task_type(run.task_type)
            sealing = SecretSealing(self.cipher)
            kwargs = sealing.open_arguments(task_type.spec, run.kwargs)
            arguments = self.registry.parse(run.task_type, run.args, kwargs)
            with _capturing(task_type.function.__module__, context):
                result = task_type.function(context, arguments)
        except TaskCancelledError:
            raise
        except SoftTimeLimitExceeded:
            # Raised inside the function by the worker's pool (celery's soft_time_limit).
            limit = task_type.soft_time_limit if task_type else None
            return Failed(
                TIME_LIMIT_EXCEEDED,
                f"ran past its soft time limit ({limit}s)",
                self._traceback(),
            )
        except Exception as exc:
            message = exc.detail if isinstance(exc, DomainError) else str(exc)
            trace = None if isinstance(exc, DomainError) else self._traceback()
            if task_type and isinstance(exc, task_type.retry_on):
                return Retried(type(exc).__name__, message, task_type.backoff(run.attempt), trace)
            if isinstance(exc, DomainError):
                # The caller's input was at fault (bad arguments, a missing file): expected,
                # so one line, no traceback; the task's error tells the caller why.
                logger.info("task %s (%s) failed: %s", run.task_id, run.task_type, message)
            else:
                logger.exception("task %s (%s) raised", run.task_id, run.task_type)
            return Failed(type(exc).__name__, message, trace)
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            return Failed(RESULT_NOT_SERIALIZABLE, str(exc))
        if task_type.secret_result:
            try:
                result = SecretSealing(self.cipher).seal_result(result)
            except DomainError as exc:
                return Failed(type(exc).__name__, exc.detail)
        return Completed(result)

    def _traceback(self) -> str:
        return clip_traceback(traceback.format_exc(), self.traceback_limit)
