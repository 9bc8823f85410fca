"""Changing a model's name, description or artifact."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_model
from application.ports import Clock, UnitOfWork
from domain.model import Model, ModelId
from domain.policy import Action
from domain.user import User


@dataclass(frozen=True, slots=True)
class UpdateModel:
    """Rules: a new artifact sends the model back to `registered` (it must be validated
    again) and is refused while a validation or deployment is running.

    Raises NotFoundError, InvalidTransitionError, ValidationError, AlreadyExistsError.
    """

    uow: UnitOfWork
    clock: Clock

    def execute(
        self,
        actor: User,
        model_id: ModelId,
        *,
        name: str | None = None,
        description: str | None = None,
        artifact_location: str | None = None,
    ) -> Model:
        now = self.clock.now()
        with self.uow:
            model = load_model(self.uow, actor, model_id, Action.CHANGE)
            model.describe(name=name, description=description, at=now)
            if artifact_location is not None:
                model.replace_artifact(artifact_location, at=now)
            self.uow.models.update(model)
            self.uow.commit()
        return model
