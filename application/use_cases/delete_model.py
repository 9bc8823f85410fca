"""Removing a model from the registry."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_model
from application.ports import UnitOfWork
from domain.errors import ConflictError
from domain.model import ModelId
from domain.policy import Action
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteModel:
    """Rules: not while a validation or deployment runs on it (cancel that task first).
    Its past tasks are kept; they lose the link to the model.

    Raises NotFoundError, ConflictError.
    """

    uow: UnitOfWork

    def execute(self, actor: User, model_id: ModelId) -> None:
        with self.uow:
            model = load_model(self.uow, actor, model_id, Action.DELETE)
            if model.status.is_busy:
                raise ConflictError(
                    f"model is {model.status.value}; cancel its task before deleting it",
                    model_id=str(model_id),
                )
            self.uow.models.delete(model)
            self.uow.commit()
