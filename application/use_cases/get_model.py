"""Reading one model."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_model
from application.ports import UnitOfWork
from domain.model import Model, ModelId
from domain.policy import Action
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetModel:
    """Raises NotFoundError, for a missing model and for someone else's alike."""

    uow: UnitOfWork

    def execute(self, actor: User, model_id: ModelId) -> Model:
        with self.uow:
            return load_model(self.uow, actor, model_id, Action.READ)
