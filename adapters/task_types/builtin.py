"""The task types taskhub ships with, grouped by the queue they belong on."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import time
from collections.abc import Iterable
from functools import partial
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import Field, SecretStr

from adapters.task_types.files import CHUNK, FileArea, file_digest
from adapters.task_types.model_tasks import model_task_types
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.errors import TaskInputError
from application.ports import TaskContext
from domain.flow import ConcurrencyRule
from domain.task import Priority

logger = logging.getLogger(__name__)


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


def gather(ctx: TaskContext, args: NoArguments) -> dict[str, Any]:
    """A workflow's fan-in: the results of the tasks it depends on, by key
    (`ctx.upstream`), and which of them did not complete (under on_failure=continue)."""
    return {
        "results": {key: up["result"] for key, up in ctx.upstream.items()},
        "not_completed": sorted(k for k, up in ctx.upstream.items() if up["status"] != "completed"),
    }


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


class SignatureArguments(TaskArguments):
    path: str = Field(min_length=1, max_length=4096, description="File to sign, on the worker.")
    # Secret: stored encrypted, opened only in the worker that runs the task, shown as ********.
    key: SecretStr = Field(
        min_length=16,
        max_length=1024,
        description="The shared signing key; secret: stored encrypted, never shown back.",
    )


def file_signature(area: FileArea, ctx: TaskContext, args: SignatureArguments) -> dict[str, Any]:
    """An HMAC-SHA256 of the file under a key its consumers share: whoever holds the key
    can check the file was not changed since."""
    area = area.of(ctx)
    path = area.resolve(args.path)
    signature = hmac.new(args.key.get_secret_value().encode(), digestmod=hashlib.sha256)
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                signature.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise area.unreadable(path, exc) from None
    ctx.progress(100, "signed")
    return {
        "path": args.path,
        "size": size,
        "algorithm": "hmac-sha256",
        "signature": signature.hexdigest(),
    }


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
            description="Sleeps for a while, reporting progress at each step. With a "
            "concurrency_key, one countdown of that key runs at a time.",
            concurrency=ConcurrencyRule(scope="countdown", limit=1, explicit_key=True),
        ),
        TaskType(
            name="gather",
            function=gather,
            arguments=NoArguments,
            description="In a workflow: returns the results of the tasks it depends on, by key.",
        ),
        TaskType(
            name="file_checksum",
            function=partial(file_checksum, area),
            arguments=ChecksumArguments,
            description="Hashes one file of the files area.",
            priority=Priority.HIGH,
            retry_on=(TimeoutError,),
            time_limit=600,
            result_view="labelled",
        ),
        TaskType(
            name="file_signature",
            function=partial(file_signature, area),
            arguments=SignatureArguments,
            description="Signs one file of the files area with HMAC-SHA256 under a secret key "
            "(an argument stored encrypted and never shown).",
            priority=Priority.HIGH,
            time_limit=600,
        ),
        TaskType(
            name="bulk_checksum",
            function=partial(bulk_checksum, area),
            arguments=BulkChecksumArguments,
            description="Hashes a batch of files of the files area; low priority.",
            priority=Priority.LOW,
            time_limit=3600,
            result_view="table",
        ),
        *model_task_types(area),
    )


ENTRY_POINT_GROUP = "taskhub.task_types"


def builtin_registry(extra_modules: str = "", files_root: Path | str = ".") -> TaskTypeRegistry:
    """The built-in task types, plus the `TASK_TYPES` of each module named (comma-separated),
    plus those of every installed package that declares an entry point in the group
    `taskhub.task_types` (its value a module with TASK_TYPES, or the sequence itself)."""
    registry = TaskTypeRegistry(builtin_task_types(FileArea(Path(files_root))))
    sources = TaskTypeSources(registry)
    for module_name in filter(None, (m.strip() for m in extra_modules.split(","))):
        module = importlib.import_module(module_name)
        sources.add(getattr(module, "TASK_TYPES", ()), source=f"module {module_name}")
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        sources.add_entry_point(entry_point)
    return registry


class TaskTypeLoadError(RuntimeError):
    """Task types that cannot join the registry; the message names where they came from."""


class TaskTypeSources:
    """Adds task types to a registry, remembering where each came from: the same object
    reached twice (a module named in TASKHUB_TASK_MODULES that is also an entry point) is
    added once; two different task types of one name are refused, naming both sources."""

    def __init__(self, registry: TaskTypeRegistry) -> None:
        self._registry = registry
        self._origin: dict[str, tuple[TaskType, str]] = {
            t.name: (t, "taskhub itself") for t in registry.task_types()
        }

    def add_entry_point(self, entry_point: EntryPoint) -> None:
        dist = entry_point.dist
        package = f" of {dist.name} {dist.version}" if dist is not None else ""
        source = f"entry point {entry_point.name} = {entry_point.value}{package}"
        try:
            loaded = entry_point.load()
        except Exception as exc:  # any import failure: say which package, not only why
            raise TaskTypeLoadError(f"{source} cannot be loaded: {exc!r}") from exc
        if isinstance(loaded, ModuleType):
            loaded = getattr(loaded, "TASK_TYPES", None)
            if loaded is None:
                raise TaskTypeLoadError(f"{source}: the module has no TASK_TYPES")
        self.add(loaded, source=source)

    def add(self, task_types: object, *, source: str) -> None:
        if isinstance(task_types, str | bytes) or not isinstance(task_types, Iterable):
            raise TaskTypeLoadError(f"{source}: expected a sequence of TaskType")
        task_types = list(task_types)
        for task_type in task_types:
            if not isinstance(task_type, TaskType):
                raise TaskTypeLoadError(f"{source}: {task_type!r} is not a TaskType")
            known = self._origin.get(task_type.name)
            if known is not None and known[0] is task_type:
                continue
            if known is not None:
                raise TaskTypeLoadError(
                    f"task type {task_type.name!r} from {source} clashes with the one "
                    f"from {known[1]}"
                )
            self._registry.register(task_type)
            self._origin[task_type.name] = (task_type, source)
        logger.info(
            "task types from %s: %s", source, ", ".join(t.name for t in task_types) or "none"
        )
