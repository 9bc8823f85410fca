"""Workflow request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from application.submission import TaskSubmission
from application.use_cases.submit_workflow import WorkflowPlan, WorkflowTaskSubmission
from application.workflows import WorkflowView
from domain.task import Priority
from domain.workflow import OnFailure, WorkflowStatus
from entrypoints.http.schemas.common import PlainText, StrictRequest
from entrypoints.http.schemas.tasks import TaskResponse


class WorkflowTaskRequest(StrictRequest):
    key: PlainText = Field(
        min_length=1,
        max_length=100,
        description="Unique in the workflow: letters, digits, '_', '.', '-'.",
        examples=["prepare"],
    )
    name: PlainText = Field(min_length=1, max_length=200)
    task_type: PlainText = Field(min_length=1, max_length=100, examples=["noop"])
    priority: Priority | None = Field(None, description="Defaults to the task type's priority.")
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[PlainText] = Field(
        default_factory=list, description="Keys of the tasks that must complete first."
    )

    def submission(self) -> WorkflowTaskSubmission:
        task = TaskSubmission(
            name=self.name,
            task_type=self.task_type,
            priority=self.priority,
            args=self.args,
            kwargs=self.kwargs,
        )
        return WorkflowTaskSubmission(key=self.key, task=task, depends_on=tuple(self.depends_on))


class SubmitWorkflowRequest(StrictRequest):
    name: PlainText = Field(min_length=1, max_length=200)
    tasks: list[WorkflowTaskRequest] = Field(
        min_length=1, description="At most TASKHUB_MAX_WORKFLOW_TASKS (1,000 by default)."
    )
    on_failure: OnFailure = Field(
        OnFailure.CANCEL_DEPENDENTS,
        description="cancel_dependents: a failed or cancelled task cancels every task below "
        "it; continue: they run anyway and see the failure in ctx.upstream.",
    )
    callback_url: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="POSTed the workflow's end (workflow.completed, workflow.failed or "
        "workflow.cancelled) as a signed webhook, with retries; signed with your callback "
        "secret (POST /api/v1/webhooks/callback-secret), which must exist.",
        examples=["https://example.com/hooks/workflow-ended"],
    )

    def submissions(self) -> list[WorkflowTaskSubmission]:
        return [task.submission() for task in self.tasks]


class WorkflowResponse(BaseModel):
    id: UUID
    name: str
    status: WorkflowStatus
    progress: int = Field(ge=0, le=100, description="The mean of its tasks' progress.")
    on_failure: OnFailure
    user_id: UUID
    created_at: datetime
    completed_at: datetime | None = None
    tasks: list[TaskResponse] = Field(description="In topological order: what runs first, first.")

    @classmethod
    def of(cls, view: WorkflowView) -> WorkflowResponse:
        workflow = view.workflow
        return cls(
            id=workflow.id,
            name=workflow.name,
            status=workflow.status,
            progress=view.progress,
            on_failure=workflow.on_failure,
            user_id=workflow.user_id,
            created_at=workflow.created_at,
            completed_at=workflow.completed_at,
            tasks=[TaskResponse.of(t, waiting_for=view.waiting.get(t.id)) for t in view.tasks],
        )


class WorkflowPage(BaseModel):
    items: list[WorkflowResponse]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class QuotaPlan(BaseModel):
    active_tasks: int = Field(description="Your unfinished tasks now.")
    would_add: int
    limit: int
    within: bool


class WorkflowPlanResponse(BaseModel):
    dry_run: bool = True
    levels: list[list[str]] = Field(
        description="The task keys in topological levels: the tasks of a level may run in "
        "parallel, each level after the one before."
    )
    max_parallel: int = Field(description="The most tasks that may run at once.")
    quota: QuotaPlan

    @classmethod
    def of(cls, plan: WorkflowPlan) -> WorkflowPlanResponse:
        return cls(
            levels=plan.levels,
            max_parallel=plan.max_parallel,
            quota=QuotaPlan(
                active_tasks=plan.active_tasks,
                would_add=plan.tasks,
                limit=plan.max_active_tasks,
                within=plan.within_quota,
            ),
        )
