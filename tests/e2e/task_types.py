"""Task types that only the end-to-end tests use, loaded through TASKHUB_TASK_MODULES.

Each one forces a situation a real task meets only by bad luck: an error, a transient
failure, a task that ignores cancellation, a worker process that dies mid-run.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from adapters.task_types.registry import TaskArguments, TaskType
from application.errors import TaskCancelledError
from application.ports import TaskContext

TICK_SECONDS = 0.05


class NoArguments(TaskArguments):
    pass


class FlakyArguments(TaskArguments):
    fail_until: int = Field(ge=1, description="The first attempt that succeeds.")


class SleepArguments(TaskArguments):
    seconds: float = Field(ge=0, le=600)


class RecordOrderArguments(TaskArguments):
    path: str = Field(min_length=1, description="File the name is appended to, on the worker.")
    name: str = Field(min_length=1)


def always_fails(ctx: TaskContext, args: NoArguments) -> None:
    raise ValueError("boom")


def flaky(ctx: TaskContext, args: FlakyArguments) -> dict[str, int]:
    if ctx.attempt < args.fail_until:
        raise ConnectionError(f"attempt {ctx.attempt} fails until attempt {args.fail_until}")
    return {"attempt": ctx.attempt}


def stubborn_sleep(ctx: TaskContext, args: SleepArguments) -> dict[str, float]:
    """Never asks the context anything, so only the worker's watchdog can stop it."""
    time.sleep(args.seconds)
    return {"slept": args.seconds}


def unstoppable_sleep(ctx: TaskContext, args: SleepArguments) -> dict[str, float]:
    """Swallows the worker's interrupt and sleeps on: only killing its process stops it."""
    deadline = time.monotonic() + args.seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            time.sleep(left)
        except TaskCancelledError:
            continue
    return {"slept": args.seconds}


def cooperative_sleep(ctx: TaskContext, args: SleepArguments) -> dict[str, float]:
    """Reports progress every tick, which is where it learns it was cancelled."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < args.seconds:
        time.sleep(TICK_SECONDS)
        ctx.progress(min(int(elapsed * 100 / args.seconds), 99), f"{elapsed:.2f}s")
    return {"slept": args.seconds}


class NarratedArguments(TaskArguments):
    lines: int = Field(ge=1, le=100)
    seconds: float = Field(ge=0, le=60)


def narrated_sleep(ctx: TaskContext, args: NarratedArguments) -> int:
    """Logs a line a step, spread over `seconds`."""
    for line in range(1, args.lines + 1):
        time.sleep(args.seconds / args.lines)
        ctx.log(f"step {line} of {args.lines}")
    return args.lines


def record_order(ctx: TaskContext, args: RecordOrderArguments) -> str:
    with Path(args.path).open("a", encoding="utf-8") as handle:
        handle.write(args.name + "\n")
    return args.name


def word_counts(ctx: TaskContext, args: NoArguments) -> list[dict[str, Any]]:
    """Records, shown as a table."""
    return [
        {"word": "beta", "count": 2},
        {"word": "alpha", "count": 5},
        {"word": "gamma", "count": 1},
    ]


def loss_curve(ctx: TaskContext, args: NoArguments) -> dict[str, Any]:
    """A numeric series, shown as a chart."""
    return {"chart": {"title": "loss", "values": [2.0, 1.2, 0.8, 0.5, 0.4]}}


def crash_once(ctx: TaskContext, args: NoArguments) -> Any:
    """The process running the first attempt dies as if the kernel's OOM killer took it."""
    if ctx.attempt == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def always_crashes(ctx: TaskContext, args: NoArguments) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def rate_limited(ctx: TaskContext, args: NoArguments) -> dict[str, int]:
    """Says which worker ran it: the parent of a worker's pool process is its main one."""
    return {"worker": os.getppid()}


TASK_TYPES = (
    TaskType(
        name="narrated_sleep",
        function=narrated_sleep,
        arguments=NarratedArguments,
        description="Logs a line a step while it sleeps.",
    ),
    TaskType(
        name="rate_limited",
        function=rate_limited,
        arguments=NoArguments,
        description="Returns its worker's pid; at most 10 a second across every worker.",
        rate_limit="10/s",
    ),
    TaskType(
        name="always_fails",
        function=always_fails,
        arguments=NoArguments,
        description="Raises ValueError('boom').",
    ),
    TaskType(
        name="flaky",
        function=flaky,
        arguments=FlakyArguments,
        description="Raises ConnectionError until attempt `fail_until`.",
        max_attempts=4,
        retry_on=(ConnectionError,),
        retry_backoff=0.2,
    ),
    TaskType(
        name="stubborn_sleep",
        function=stubborn_sleep,
        arguments=SleepArguments,
        description="Sleeps without ever calling its context: ignores cancellation.",
    ),
    TaskType(
        name="unstoppable_sleep",
        function=unstoppable_sleep,
        arguments=SleepArguments,
        description="Sleeps through the worker's interrupt: only a kill stops it.",
    ),
    TaskType(
        name="cooperative_sleep",
        function=cooperative_sleep,
        arguments=SleepArguments,
        description="Sleeps in short ticks, reporting progress after each.",
    ),
    TaskType(
        name="record_order",
        function=record_order,
        arguments=RecordOrderArguments,
        description="Appends `name` to the file at `path`, to observe execution order.",
    ),
    TaskType(
        name="word_counts",
        function=word_counts,
        arguments=NoArguments,
        description="Returns a few records: a table on the task's page.",
        result_view="table",
    ),
    TaskType(
        name="loss_curve",
        function=loss_curve,
        arguments=NoArguments,
        description="Returns a numeric series: a chart on the task's page.",
        result_view="chart",
    ),
    TaskType(
        name="crash_once",
        function=crash_once,
        arguments=NoArguments,
        description="SIGKILLs its own process on attempt 1; later attempts succeed.",
    ),
    TaskType(
        name="always_crashes",
        function=always_crashes,
        arguments=NoArguments,
        description="SIGKILLs its own process on every attempt.",
        max_attempts=2,
    ),
)
