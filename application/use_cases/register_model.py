"""Registering an ML model in the registry."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from domain.model import Model, ModelType
from domain.policy import ensure_active
from domain.user import User


@dataclass(frozen=True, slots=True)
class RegisterModel:
    """Rules: a model starts `registered`, owned by the actor; names are unique per owner.

    Raises ValidationError, AlreadyExistsError, PermissionDeniedError (inactive actor).
    """

    uow: UnitOfWork
    clock: Clock

    def execute(
        self,
        actor: User,
        *,
        name: str,
        model_type: ModelType,
        artifact_location: str,
        description: str = "",
    ) -> Model:
        ensure_active(actor)
        model = Model.register(
            name=name,
            model_type=model_type,
            artifact_location=artifact_location,
            description=description,
            user_id=actor.id,
            at=self.clock.now(),
        )
        with self.uow:
            self.uow.models.add(model)
            self.uow.commit()
        return model
