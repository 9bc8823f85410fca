"""Task types only the metrics test uses, loaded through TASKHUB_TASK_MODULES."""

from __future__ import annotations

from adapters.task_types.registry import TaskArguments, TaskType
from application.ports import TaskContext
from domain.task import Priority


class NoArguments(TaskArguments):
    pass


def always_fails(ctx: TaskContext, args: NoArguments) -> None:
    raise ValueError("fails on purpose")


def fails_first_attempt(ctx: TaskContext, args: NoArguments) -> dict[str, int]:
    if ctx.attempt < 2:
        raise ConnectionError("the first attempt fails on purpose")
    return {"attempt": ctx.attempt}


TASK_TYPES = (
    TaskType(
        name="metrics_always_fails",
        function=always_fails,
        arguments=NoArguments,
        description="Fails at once, for good.",
    ),
    TaskType(
        name="metrics_fails_once",
        function=fails_first_attempt,
        arguments=NoArguments,
        description="Fails its first attempt (retried), succeeds on the second.",
        priority=Priority.HIGH,
        retry_on=(ConnectionError,),
        retry_backoff=0.1,
    ),
)
