"""A workflow's task run by RunTask: its function reads its dependencies' results through
ctx.upstream, within TASKHUB_MAX_UPSTREAM_BYTES, and its end releases what waited for it."""

from __future__ import annotations

from typing import Any

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.ports import TaskContext
from application.running.outcomes import Completed, Failed
from application.running.run_task import UPSTREAM_TOO_LARGE, RunTuning
from domain.task import Task, TaskStatus
from domain.workflow import Workflow
from tests.factories import make_user
from tests.unit.worker.runs import run_task_on


class Nothing(TaskArguments):
    pass


def big(ctx: TaskContext, args: Nothing) -> str:
    return "x" * 1000


def upstream(ctx: TaskContext, args: Nothing) -> dict[str, Any]:
    return ctx.upstream


REGISTRY = TaskTypeRegistry(
    [
        TaskType("big", big, Nothing, description="a large result"),
        TaskType("upstream", upstream, Nothing, description="returns ctx.upstream"),
    ]
)


def two_steps(uow: InMemoryUnitOfWork, clock: FixedClock) -> tuple[Task, Task]:
    owner = make_user()
    workflow = Workflow.submit(name="w", user_id=owner.id, at=clock.now())
    first = Task.submit(
        name="a", task_type="big", user_id=owner.id, at=clock.now(),
        workflow_id=workflow.id, workflow_key="a",
    )  # fmt: skip
    second = Task.submit(
        name="b", task_type="upstream", user_id=owner.id, at=clock.now(),
        workflow_id=workflow.id, workflow_key="b", depends_on=["a"],
    )  # fmt: skip
    with uow:
        uow.users.add(owner)
        uow.workflows.add(workflow)
        uow.tasks.add_many([first, second])
        uow.commit()
    return first, second


def test_a_completed_run_releases_its_dependent_whose_function_reads_the_result() -> None:
    uow, clock = InMemoryUnitOfWork(), FixedClock()
    first, second = two_steps(uow, clock)
    runner = run_task_on(uow, clock, REGISTRY)

    assert runner.execute(first.id) == Completed("x" * 1000)
    outcome = runner.execute(second.id)

    assert outcome == Completed({"a": {"status": "completed", "result": "x" * 1000, "error": None}})


def test_a_run_whose_upstream_is_larger_than_the_limit_fails_without_running() -> None:
    uow, clock = InMemoryUnitOfWork(), FixedClock()
    first, second = two_steps(uow, clock)
    runner = run_task_on(uow, clock, REGISTRY, tuning=RunTuning(max_upstream_bytes=500))

    runner.execute(first.id)
    outcome = runner.execute(second.id)

    assert isinstance(outcome, Failed)
    assert outcome.error_type == UPSTREAM_TOO_LARGE
    with uow:
        assert uow.tasks.get(second.id).status is TaskStatus.FAILED
