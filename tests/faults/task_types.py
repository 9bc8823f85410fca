"""Task types the fault tests run, loaded through TASKHUB_TASK_MODULES.

Each appends to a journal file on the worker, one line per event ("start", "done"), with
the task id, the attempt and the process id: the test counts runs and completions per task
from it, independently of what the database says, and finds the pool process to kill.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from adapters.task_types.registry import TaskArguments, TaskType
from application.ports import TaskContext

TICK_SECONDS = 0.01
# Below the time limit: the hard limit must cut the run short long before it ends by itself.
OVERRUN_TIME_LIMIT_SECONDS = 2.0
# A first attempt's retry waits this long: its ETA message sits in the worker meanwhile.
FLAKY_BACKOFF_SECONDS = 6.0
# What each run of journaled_leak keeps for good in its process.
LEAK_MB = 60
_leaked: list[bytearray] = []


class JournalArguments(TaskArguments):
    journal: str = Field(min_length=1, description="File the run's events are appended to.")
    seconds: float = Field(0.0, ge=0, le=60)


def write_event(journal: str, event: str, ctx: TaskContext) -> None:
    """One line, one `write` on an O_APPEND file: lines of concurrent processes never mix."""
    line = f"{event} {ctx.task_id} {ctx.attempt} {os.getpid()} {time.time():.3f}\n"
    descriptor = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)


def journaled_sleep(ctx: TaskContext, args: JournalArguments) -> dict[str, Any]:
    """Sleeps in short ticks, reporting progress after each (where it learns of a cancel)."""
    write_event(args.journal, "start", ctx)
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < args.seconds:
        time.sleep(min(TICK_SECONDS, args.seconds - elapsed))
        ctx.progress(min(int(elapsed * 100 / args.seconds), 99))
    write_event(args.journal, "done", ctx)
    return {"slept": args.seconds, "attempt": ctx.attempt}


def journaled_crash(ctx: TaskContext, args: JournalArguments) -> None:
    """Its process dies on every attempt, as if the kernel's OOM killer took it."""
    write_event(args.journal, "start", ctx)
    os.kill(os.getpid(), signal.SIGKILL)


def journaled_overrun(ctx: TaskContext, args: JournalArguments) -> dict[str, Any]:
    """Sleeps past its hard time limit without ever asking its context anything."""
    write_event(args.journal, "start", ctx)
    time.sleep(args.seconds)
    write_event(args.journal, "done", ctx)
    return {"slept": args.seconds}


def journaled_flaky(ctx: TaskContext, args: JournalArguments) -> dict[str, Any]:
    """Its first attempt fails with an error worth a retry; later ones complete."""
    write_event(args.journal, "start", ctx)
    if ctx.attempt == 1:
        raise ConnectionError("the first attempt always fails")
    write_event(args.journal, "done", ctx)
    return {"attempt": ctx.attempt}


def journaled_leak(ctx: TaskContext, args: JournalArguments) -> dict[str, Any]:
    """Keeps LEAK_MB of memory in its process for good, as a leaking task would."""
    write_event(args.journal, "start", ctx)
    before = resident_mb()
    chunk = bytearray(LEAK_MB * 1024 * 1024)
    chunk[::4096] = b"x" * len(chunk[::4096])  # touched, so it is resident
    _leaked.append(chunk)
    write_event(args.journal, "done", ctx)
    return {"pid": os.getpid(), "rss_mb_before": before, "rss_mb_after": resident_mb()}


def resident_mb() -> int:
    """The process's resident memory now, in MiB (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


TASK_TYPES = (
    TaskType(
        name="journaled_sleep",
        function=journaled_sleep,
        arguments=JournalArguments,
        description="Journals its start, sleeps `seconds` reporting progress, journals done.",
    ),
    TaskType(
        name="journaled_crash",
        function=journaled_crash,
        arguments=JournalArguments,
        description="Journals its start, then SIGKILLs its own process.",
        max_attempts=3,
    ),
    TaskType(
        name="journaled_overrun",
        function=journaled_overrun,
        arguments=JournalArguments,
        description="Sleeps `seconds` without cooperating; its hard time limit is 2 s.",
        time_limit=OVERRUN_TIME_LIMIT_SECONDS,
    ),
    TaskType(
        name="journaled_flaky",
        function=journaled_flaky,
        arguments=JournalArguments,
        description="Fails its first attempt with a retryable error, then completes.",
        retry_on=(ConnectionError,),
        retry_backoff=FLAKY_BACKOFF_SECONDS,
    ),
    TaskType(
        name="journaled_leak",
        function=journaled_leak,
        arguments=JournalArguments,
        description=f"Keeps {LEAK_MB} MB in its process for good.",
    ),
)
