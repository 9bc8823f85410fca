"""Deleting a finished workflow with its tasks."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from application.workflows import load_workflow
from domain.errors import ConflictError
from domain.policy import Action
from domain.user import User
from domain.workflow import WorkflowId


@dataclass(frozen=True, slots=True)
class DeleteWorkflow:
    """Rules: only a finished workflow (completed, failed, cancelled) can be deleted, and
    its tasks go with it; a running one must be cancelled first (409).

    Raises NotFoundError, ConflictError.
    """

    uow: UnitOfWork

    def execute(self, actor: User, workflow_id: WorkflowId) -> None:
        with self.uow:
            load_workflow(self.uow, actor, workflow_id, Action.DELETE)
            self.uow.workflows.lock(workflow_id)
            workflow = self.uow.workflows.get(workflow_id)
            if not workflow.is_terminal:
                raise ConflictError(
                    f"workflow is {workflow.status.value}; cancel it before deleting it",
                    workflow_id=str(workflow_id),
                )
            self.uow.workflows.delete(workflow)
            self.uow.commit()
