"""The model registry's task types: checking an artifact, and deploying a validated one."""

from __future__ import annotations

import shutil
import zipfile
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import Field

from adapters.task_types.files import FileArea, file_digest
from adapters.task_types.registry import TaskArguments, TaskType
from application.errors import TaskInputError
from application.ports import TaskContext
from domain.flow import ConcurrencyRule
from domain.model import DEPLOY_MODEL_TASK, VALIDATE_MODEL_TASK, ModelType
from domain.task import Priority


class InvalidArtifactError(TaskInputError):
    """The artifact is missing, unreadable or not of its model's type. Retrying won't help."""


class ValidateModelArguments(TaskArguments):
    model_id: UUID
    artifact_location: str = Field(min_length=1)
    model_type: ModelType


class DeployModelArguments(TaskArguments):
    model_id: UUID
    artifact_location: str = Field(min_length=1)
    artifact_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    deployment_dir: str = Field(min_length=1)


ONE_TASK_PER_MODEL = ConcurrencyRule(scope="model", limit=1, argument="model_id")

_PICKLE = b"\x80"
_ZIP = b"PK\x03\x04"


def check_format(path: Path, model_type: ModelType) -> str:
    """A cheap check that the file is what its model type claims; returns the format seen."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if model_type is ModelType.PYTORCH and (head.startswith(_ZIP) or head[:1] == _PICKLE):
        return "torch-zip" if head.startswith(_ZIP) else "torch-pickle"
    if model_type is ModelType.SKLEARN and head[:1] == _PICKLE:
        return "pickle"
    # An ONNX file is a protobuf ModelProto whose first field is ir_version (tag 0x08).
    if model_type is ModelType.ONNX and head[:1] == b"\x08":
        return "onnx-protobuf"
    if model_type is ModelType.CUSTOM:
        return "zip" if zipfile.is_zipfile(path) else "opaque"
    raise InvalidArtifactError(f"{path.name} does not look like a {model_type.value} model")


def validate_model(
    area: FileArea, ctx: TaskContext, args: ValidateModelArguments
) -> dict[str, Any]:
    area = area.of(ctx)
    try:
        path = area.resolve(args.artifact_location)
    except TaskInputError as exc:
        raise InvalidArtifactError(exc.detail) from None
    if not path.is_file():
        raise InvalidArtifactError(f"artifact {args.artifact_location} does not exist")
    try:
        detected = check_format(path, args.model_type)
        size, sha256 = file_digest(ctx, path, "sha256")
    except OSError as exc:
        reason = (exc.strerror or "cannot be read").lower()
        raise InvalidArtifactError(f"artifact {area.shown(path)}: {reason}") from None
    return {"model_id": str(args.model_id), "size": size, "sha256": sha256, "format": detected}


def deploy_model(area: FileArea, ctx: TaskContext, args: DeployModelArguments) -> dict[str, Any]:
    source = area.of(ctx).resolve(args.artifact_location)
    target_dir = Path(args.deployment_dir) / str(args.model_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target_dir / (source.name + ".partial")
    shutil.copyfile(source, partial)
    ctx.progress(50, "copied")
    _, sha256 = file_digest(ctx, partial, "sha256")
    if sha256 != args.artifact_sha256:
        partial.unlink()
        raise InvalidArtifactError("artifact changed since it was validated")
    # Rename last so a half-copied file is never taken for a deployed model.
    deployed = partial.replace(target_dir / source.name)
    return {"model_id": str(args.model_id), "deployed_location": str(deployed)}


def model_task_types(area: FileArea) -> tuple[TaskType, ...]:
    """Internal: only the registry's validate and deploy requests create these tasks. Both
    share one concurrency key per model: one task of a model at a time, the next released
    when it ends."""
    return (
        TaskType(
            name=VALIDATE_MODEL_TASK,
            function=partial(validate_model, area),
            arguments=ValidateModelArguments,
            internal=True,
            time_limit=1800,
            concurrency=ONE_TASK_PER_MODEL,
            description="Checks a model's artifact: exists, readable, format, size, sha256.",
        ),
        TaskType(
            name=DEPLOY_MODEL_TASK,
            function=partial(deploy_model, area),
            arguments=DeployModelArguments,
            internal=True,
            priority=Priority.HIGH,
            time_limit=1800,
            concurrency=ONE_TASK_PER_MODEL,
            description="Copies a validated artifact to the deployment directory.",
        ),
    )
