"""The worker's main process fails a run Celery stopped at its hard time limit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import task_failure

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import DependencyUnavailableError
from application.use_cases.fail_overrun_task import FailOverrunTask
from domain.task import Task, TaskStatus
from entrypoints.worker.time_limits import (
    fail_runs_stopped_at_their_time_limit,
    record_time_limit_failure,
)
from tests.factories import make_running_task


@dataclass(frozen=True)
class CeleryTask:  # what Celery sends the signal from: only its name is read
    name: str


TASK_TYPE_TASK = CeleryTask("taskhub.sleep")


@pytest.fixture
def running(uow: InMemoryUnitOfWork) -> Task:
    task = make_running_task()
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


@pytest.fixture
def connected(uow: InMemoryUnitOfWork, clock: FixedClock) -> Iterator[None]:
    receiver = fail_runs_stopped_at_their_time_limit(lambda: FailOverrunTask(uow, clock))
    yield
    task_failure.disconnect(receiver)


def status(uow: InMemoryUnitOfWork, task: Task) -> TaskStatus:
    with uow:
        return uow.tasks.get(task.id).status


@pytest.mark.usefixtures("connected")
def test_a_hard_time_limit_signalled_by_celery_fails_the_task(
    uow: InMemoryUnitOfWork, running: Task
) -> None:
    task_failure.send(
        sender=TASK_TYPE_TASK, task_id=str(running.id), exception=TimeLimitExceeded(2.0)
    )

    with uow:
        row = uow.tasks.get(running.id)
    assert row.status is TaskStatus.FAILED
    assert row.error is not None
    assert row.error.type == "TimeLimitExceeded"
    assert "(2s)" in row.error.message


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("sender", "exception"),
    [
        (TASK_TYPE_TASK, SoftTimeLimitExceeded()),  # raised in the run, which records it
        (TASK_TYPE_TASK, ValueError("boom")),
        (CeleryTask("someone.elses.task"), TimeLimitExceeded(2.0)),
    ],
)
def test_other_failures_and_other_tasks_are_not_its_business(
    uow: InMemoryUnitOfWork, running: Task, sender: object, exception: Exception
) -> None:
    task_failure.send(sender=sender, task_id=str(running.id), exception=exception)

    assert status(uow, running) is TaskStatus.RUNNING


class UnavailableFailOverrunTask(FailOverrunTask):
    def execute(self, *args: object, **kwargs: object) -> None:
        raise DependencyUnavailableError("the database is unavailable", dependency="database")


def test_a_database_outage_leaves_the_task_to_the_reaper(
    uow: InMemoryUnitOfWork, clock: FixedClock, running: Task, caplog: pytest.LogCaptureFixture
) -> None:
    record_time_limit_failure(UnavailableFailOverrunTask(uow, clock), str(running.id), 2.0)

    assert status(uow, running) is TaskStatus.RUNNING
    assert "could not fail task" in caplog.text
