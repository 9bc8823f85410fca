"""Reading the events of one workflow's tasks: the `?workflow_id=` of GET /api/v1/events."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.publishing import TaskPublisher
from application.running.start_task import StartTask
from application.submission import TaskSubmission
from application.use_cases.read_task_events import ReadTaskEvents
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_workflow import SubmitWorkflow, WorkflowTaskSubmission
from domain.errors import NotFoundError
from domain.user import User
from domain.workflow import WorkflowId


def test_a_workflow_filter_reads_only_the_events_of_that_workflows_tasks(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
    bob: User,
) -> None:
    workflows = SubmitWorkflow(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    submit = SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    one_task = [WorkflowTaskSubmission("a", TaskSubmission("a", "bulk"))]
    mine = workflows.execute(alice, name="mine", tasks=one_task)
    other = workflows.execute(alice, name="other", tasks=one_task)
    alone = submit.execute(alice, name="alone", task_type="bulk")
    for task in (*mine.tasks, *other.tasks, alone):
        StartTask(uow=uow, clock=clock).execute(task.id)
    read = ReadTaskEvents(uow=uow, clock=clock)

    found = read.execute(alice, after=0, workflow_id=mine.workflow.id)

    assert [(e.task_id, e.data["status"]) for e in found.events] == [
        (mine.tasks[0].id, "running")
    ]
    assert found.events[0].data["workflow_id"] == str(mine.workflow.id)
    with pytest.raises(NotFoundError):
        read.execute(bob, after=0, workflow_id=mine.workflow.id)
    with pytest.raises(NotFoundError):
        read.execute(alice, after=0, workflow_id=WorkflowId(uuid4()))
