"""Reading one workflow with its tasks."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from application.workflows import WorkflowView, load_workflow, view_of
from domain.policy import Action
from domain.user import User
from domain.workflow import WorkflowId


@dataclass(frozen=True, slots=True)
class GetWorkflow:
    """Raises NotFoundError, for a missing workflow and for someone else's alike."""

    uow: UnitOfWork

    def execute(self, actor: User, workflow_id: WorkflowId) -> WorkflowView:
        with self.uow:
            return view_of(self.uow, load_workflow(self.uow, actor, workflow_id, Action.READ))
