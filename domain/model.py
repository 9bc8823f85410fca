"""The Model entity of the ML model registry and its lifecycle."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NewType
from uuid import UUID, uuid4

from domain.errors import InvalidTransitionError, ValidationError
from domain.text import LINE_BREAKS, check_plain_text

if TYPE_CHECKING:
    from domain.user import UserId

ModelId = NewType("ModelId", UUID)

MAX_MODEL_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000


class ModelType(enum.StrEnum):
    """The artifact formats the registry knows how to check."""

    ONNX = "onnx"
    PYTORCH = "pytorch"
    SKLEARN = "sklearn"
    CUSTOM = "custom"


class ModelStatus(enum.StrEnum):
    REGISTERED = "registered"
    VALIDATING = "validating"
    VALIDATED = "validated"
    INVALID = "invalid"
    DEPLOYING = "deploying"
    DEPLOYED = "deployed"
    DEPLOYMENT_FAILED = "deployment_failed"

    @property
    def is_busy(self) -> bool:
        """A model task is working on the model; its artifact must not change under it."""
        return self in (ModelStatus.VALIDATING, ModelStatus.DEPLOYING)


# VALIDATING -> REGISTERED and DEPLOYING -> VALIDATED undo a request whose task was
# cancelled; "-> REGISTERED" from a settled state is a new artifact that needs validating.
MODEL_TRANSITIONS: dict[ModelStatus, frozenset[ModelStatus]] = {
    ModelStatus.REGISTERED: frozenset({ModelStatus.VALIDATING}),
    ModelStatus.VALIDATING: frozenset(
        {ModelStatus.VALIDATED, ModelStatus.INVALID, ModelStatus.REGISTERED}
    ),
    ModelStatus.VALIDATED: frozenset(
        {ModelStatus.DEPLOYING, ModelStatus.VALIDATING, ModelStatus.REGISTERED}
    ),
    ModelStatus.INVALID: frozenset({ModelStatus.VALIDATING, ModelStatus.REGISTERED}),
    ModelStatus.DEPLOYING: frozenset(
        {ModelStatus.DEPLOYED, ModelStatus.DEPLOYMENT_FAILED, ModelStatus.VALIDATED}
    ),
    ModelStatus.DEPLOYED: frozenset({ModelStatus.DEPLOYING, ModelStatus.REGISTERED}),
    ModelStatus.DEPLOYMENT_FAILED: frozenset(
        {ModelStatus.DEPLOYING, ModelStatus.VALIDATING, ModelStatus.REGISTERED}
    ),
}


def _validate_text(value: str, *, field: str, max_length: int, allow_blank: bool) -> str:
    # Descriptions are prose: line breaks and tabs are theirs; nothing else invisible.
    allowed = LINE_BREAKS if field == "description" else frozenset()
    stripped = check_plain_text(value, field=field, allowed=allowed).strip()
    if not stripped and not allow_blank:
        raise ValidationError(f"{field} must not be blank", field=field)
    if len(stripped) > max_length:
        raise ValidationError(f"{field} must be at most {max_length} characters", field=field)
    return stripped


def _validate_location(location: str) -> str:
    return _validate_text(location, field="artifact_location", max_length=1000, allow_blank=False)


@dataclass(eq=False, kw_only=True)
class Model:
    id: ModelId
    name: str
    model_type: ModelType
    artifact_location: str
    user_id: UserId
    created_at: datetime
    description: str = ""
    status: ModelStatus = ModelStatus.REGISTERED
    artifact_size: int | None = None
    artifact_sha256: str | None = None
    deployed_location: str | None = None
    status_reason: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def register(
        cls,
        *,
        name: str,
        model_type: ModelType,
        artifact_location: str,
        user_id: UserId,
        at: datetime,
        description: str = "",
    ) -> Model:
        return cls(
            id=ModelId(uuid4()),
            name=_validate_text(
                name, field="name", max_length=MAX_MODEL_NAME_LENGTH, allow_blank=False
            ),
            description=_validate_text(
                description,
                field="description",
                max_length=MAX_DESCRIPTION_LENGTH,
                allow_blank=True,
            ),
            model_type=model_type,
            artifact_location=_validate_location(artifact_location),
            user_id=user_id,
            created_at=at,
            updated_at=at,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def describe(
        self, *, at: datetime, name: str | None = None, description: str | None = None
    ) -> None:
        # Validate both before changing either, so a refused call changes nothing.
        new_name = (
            self.name
            if name is None
            else _validate_text(
                name, field="name", max_length=MAX_MODEL_NAME_LENGTH, allow_blank=False
            )
        )
        new_description = (
            self.description
            if description is None
            else _validate_text(
                description,
                field="description",
                max_length=MAX_DESCRIPTION_LENGTH,
                allow_blank=True,
            )
        )
        self.name, self.description = new_name, new_description
        self.updated_at = at

    def replace_artifact(self, location: str, *, at: datetime) -> None:
        """Point at a new artifact; what was checked of the old one no longer holds.

        Refused while a model task works on the current artifact, even though the table
        lets a cancelled request fall back to registered.
        """
        if self.status.is_busy:
            raise InvalidTransitionError(
                "model", self.status.value, ModelStatus.REGISTERED.value, model_id=str(self.id)
            )
        location = _validate_location(location)
        if self.status is not ModelStatus.REGISTERED:
            self._move_to(ModelStatus.REGISTERED)
        self.artifact_location = location
        self.artifact_size = None
        self.artifact_sha256 = None
        self.deployed_location = None
        self.status_reason = None
        self.updated_at = at

    def start_validation(self, *, at: datetime) -> None:
        self._move_to(ModelStatus.VALIDATING)
        self.status_reason = None
        self.updated_at = at

    def mark_validated(self, *, size: int, sha256: str, at: datetime) -> None:
        self._move_to(ModelStatus.VALIDATED)
        self.artifact_size = size
        self.artifact_sha256 = sha256
        self.updated_at = at

    def mark_invalid(self, *, reason: str, at: datetime) -> None:
        self._move_to(ModelStatus.INVALID)
        self.status_reason = reason
        self.updated_at = at

    def start_deployment(self, *, at: datetime) -> None:
        self._move_to(ModelStatus.DEPLOYING)
        self.status_reason = None
        self.updated_at = at

    def mark_deployed(self, *, location: str, at: datetime) -> None:
        self._move_to(ModelStatus.DEPLOYED)
        self.deployed_location = location
        self.updated_at = at

    def mark_deployment_failed(self, *, reason: str, at: datetime) -> None:
        self._move_to(ModelStatus.DEPLOYMENT_FAILED)
        self.status_reason = reason
        self.updated_at = at

    def abandon_request(self, *, at: datetime) -> None:
        """Undo a validation or deployment whose task was cancelled before it finished."""
        if self.status is ModelStatus.VALIDATING:
            self._move_to(ModelStatus.REGISTERED)
        elif self.status is ModelStatus.DEPLOYING:
            self._move_to(ModelStatus.VALIDATED)
        else:
            return
        self.updated_at = at

    def _move_to(self, target: ModelStatus) -> None:
        if target not in MODEL_TRANSITIONS[self.status]:
            raise InvalidTransitionError(
                "model", self.status.value, target.value, model_id=str(self.id)
            )
        self.status = target


# The task types through which the registry validates and deploys a model.
VALIDATE_MODEL_TASK = "validate_model"
DEPLOY_MODEL_TASK = "deploy_model"
