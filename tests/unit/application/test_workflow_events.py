"""Workflow events: the `?workflow_id=` of GET /api/v1/events reads only that workflow's
events, and a workflow's end is an event of its own, delivered to its callback URL and to
subscribed webhook endpoints."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.publishing import TaskPublisher
from application.running.outcomes import Completed
from application.running.record_outcome import RecordOutcome
from application.running.start_task import StartTask
from application.submission import TaskSubmission
from application.use_cases.cancel_workflow import CancelWorkflow
from application.use_cases.issue_callback_secret import IssueCallbackSecret
from application.use_cases.read_task_events import ReadTaskEvents
from application.use_cases.register_webhook_endpoint import RegisterWebhookEndpoint
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_workflow import SubmitWorkflow, WorkflowTaskSubmission
from domain.errors import NotFoundError
from domain.event import EventKind
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

    assert [(e.task_id, e.data["status"]) for e in found.events] == [(mine.tasks[0].id, "running")]
    assert found.events[0].data["workflow_id"] == str(mine.workflow.id)
    with pytest.raises(NotFoundError):
        read.execute(bob, after=0, workflow_id=mine.workflow.id)
    with pytest.raises(NotFoundError):
        read.execute(alice, after=0, workflow_id=WorkflowId(uuid4()))


def test_a_workflow_end_is_an_event_delivered_to_its_callback_and_subscribed_endpoints(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
) -> None:
    workflows = SubmitWorkflow(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    IssueCallbackSecret(uow=uow).execute(alice)
    endpoint = RegisterWebhookEndpoint(uow=uow, clock=clock).execute(
        alice, url="https://hooks.example.com/in", events=["workflow.completed"]
    )
    one_task = [WorkflowTaskSubmission("a", TaskSubmission("a", "bulk"))]
    view, _ = workflows.execute_once(
        alice, None, name="w", tasks=one_task, callback_url="https://app.example.com/w"
    )
    run = StartTask(uow=uow, clock=clock).execute(view.tasks[0].id)
    RecordOutcome(uow=uow, publisher=publisher, clock=clock).execute(run, Completed(result=1))

    [ended] = [e for e in uow.store.events.events if e.kind is EventKind.WORKFLOW]
    deliveries = [d for d in uow.store.webhooks.deliveries.values() if d.sequence == ended.sequence]
    assert ended.type == "workflow.completed"
    assert ended.data["id"] == str(view.workflow.id)
    assert sorted((d.url, d.endpoint_id) for d in deliveries) == sorted(
        [("https://app.example.com/w", None), (endpoint.url, endpoint.id)]
    )
    found = ReadTaskEvents(uow=uow, clock=clock).execute(
        alice, after=0, workflow_id=view.workflow.id
    )
    assert found.events[-1].type == "workflow.completed"


def test_cancelling_a_workflow_records_its_end_once(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    workflows = SubmitWorkflow(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    one_task = [WorkflowTaskSubmission("a", TaskSubmission("a", "bulk"))]
    view = workflows.execute(alice, name="w", tasks=one_task)

    CancelWorkflow(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, view.workflow.id)

    ended = [e.type for e in uow.store.events.events if e.kind is EventKind.WORKFLOW]
    assert ended == ["workflow.cancelled"]
