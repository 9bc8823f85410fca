"""The task types taskhub ships with, grouped by the queue they belong on."""

from __future__ import annotations

import hashlib
import importlib
import time
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from adapters.task_types.files import CHUNK, FileArea, file_digest
from adapters.task_types.model_tasks import model_task_types
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.errors import TaskInputError
from application.ports import TaskContext
from domain.task import Priority


class NoArguments(TaskArguments):
    pass


def noop(ctx: TaskContext, args: NoArguments) -> None:
    """Does nothing: the yardstick for what taskhub itself costs per task."""


class CountdownArguments(TaskArguments):
    seconds: float = Field(ge=0, le=3600, description="How long to count down.")
    steps: int = Field(10, ge=1, le=1000, description="How many progress reports to make.")


def countdown(ctx: TaskContext, args: CountdownArguments) -> dict[str, Any]:
    for step in range(1, args.steps + 1):
        time.sleep(args.seconds / args.steps)
        ctx.progress(step * 100 // args.steps, f"{step}/{args.steps}")
    return {"slept": args.seconds}


class ChecksumArguments(TaskArguments):
    path: str = Field(min_length=1, max_length=4096, description="File to hash, on the worker.")
    algorithm: Literal["sha256", "sha1", "md5", "blake2b"] = "sha256"


def file_checksum(area: FileArea, ctx: TaskContext, args: ChecksumArguments) -> dict[str, Any]:
    area = area.of(ctx)
    path = area.resolve(args.path)
    try:
        size, hexdigest = file_digest(ctx, path, args.algorithm)
    except TimeoutError:
        raise  # a slow mount: worth another attempt (retry_on)
    except OSError as exc:
        raise area.unreadable(path, exc) from None
    return {"path": args.path, "size": size, "algorithm": args.algorithm, "hexdigest": hexdigest}


class BulkChecksumArguments(TaskArguments):
    paths: list[str] = Field(min_length=1, max_length=10_000)
    algorithm: Literal["sha256", "sha1", "md5", "blake2b"] = "sha256"


def bulk_checksum(area: FileArea, ctx: TaskContext, args: BulkChecksumArguments) -> dict[str, Any]:
    """Hash many files; a missing, unreadable or forbidden file is reported against its
    name, not fatal, as batch jobs expect."""
    area = area.of(ctx)
    digests: dict[str, str] = {}
    errors: dict[str, str] = {}
    for n, name in enumerate(args.paths, start=1):
        try:
            path = area.resolve(name)
            digest = hashlib.new(args.algorithm)
            try:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
            except OSError as exc:
                raise area.unreadable(path, exc) from None
            digests[name] = digest.hexdigest()
        except TaskInputError as exc:
            errors[name] = f"{type(exc).__name__}: {exc.detail}"
        ctx.progress(n * 100 // len(args.paths), f"{n}/{len(args.paths)} files")
    return {"algorithm": args.algorithm, "digests": digests, "errors": errors}


def builtin_task_types(area: FileArea) -> tuple[TaskType, ...]:
    return (
        TaskType(
            name="noop",
            function=noop,
            arguments=NoArguments,
            description="Does nothing; measures the system's own overhead.",
        ),
        TaskType(
            name="countdown",
            function=countdown,
            arguments=CountdownArguments,
            description="Sleeps for a while, reporting progress at each step.",
        ),
        TaskType(
            name="file_checksum",
            function=partial(file_checksum, area),
            arguments=ChecksumArguments,
            description="Hashes one file of the files area.",
            priority=Priority.HIGH,
            retry_on=(TimeoutError,),
            time_limit=600,
        ),
        TaskType(
            name="bulk_checksum",
            function=partial(bulk_checksum, area),
            arguments=BulkChecksumArguments,
            description="Hashes a batch of files of the files area; low priority.",
            priority=Priority.LOW,
            time_limit=3600,
        ),
        *model_task_types(area),
    )


def builtin_registry(extra_modules: str = "", files_root: Path | str = ".") -> TaskTypeRegistry:
    """The built-in task types, plus the `TASK_TYPES` of each module named (comma-separated)."""
    registry = TaskTypeRegistry(builtin_task_types(FileArea(Path(files_root))))
    for module_name in filter(None, (m.strip() for m in extra_modules.split(","))):
        module = importlib.import_module(module_name)
        for task_type in getattr(module, "TASK_TYPES", ()):
            registry.register(task_type)
    return registry
