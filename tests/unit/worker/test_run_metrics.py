"""What the worker's metrics see: each run's start and outcome, by task type and queue, and
the backlog gauges read at scrape time."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.errors import DependencyUnavailableError
from application.ports import RunObserver, TaskContext
from application.publishing import TaskPublisher
from application.running.outcomes import (
    Cancelled,
    Completed,
    Failed,
    Outcome,
    Retried,
    Skipped,
    TakenBack,
    TaskRun,
)
from application.running.run_task import RunTask
from application.use_cases.count_tasks_by_status import CountTasksByStatus
from application.use_cases.measure_waiting_tasks import MeasureWaitingTasks
from domain.flow import HoldReason
from domain.task import Priority, RunToken, Task, TaskId, TaskStatus
from domain.user import User
from entrypoints.worker.metrics import BacklogCollector, PrometheusRunObserver
from tests.factories import make_task
from tests.unit.worker.runs import run_task_on


class NoArguments(TaskArguments):
    pass


def succeeds(ctx: TaskContext, args: NoArguments) -> str:
    return "done"


def fails(ctx: TaskContext, args: NoArguments) -> None:
    raise ValueError("boom")


def flaky(ctx: TaskContext, args: NoArguments) -> None:
    raise ConnectionError("later")


REGISTRY = TaskTypeRegistry(
    TaskType(name=f.__name__, function=f, arguments=NoArguments, description=f.__name__)
    for f in (succeeds, fails)
)
REGISTRY.register(
    TaskType(
        name="flaky",
        function=flaky,
        arguments=NoArguments,
        description="flaky",
        retry_on=(ConnectionError,),
    )
)


class RecordingObserver(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def started(self, run: TaskRun) -> None:
        self.events.append(("started", run.task_type, run.queue, ""))

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        assert seconds >= 0
        self.events.append(("finished", run.task_type, run.queue, type(outcome).__name__))


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
def runner(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    publisher: TaskPublisher,
    observer: RecordingObserver,
) -> RunTask:
    return run_task_on(uow, clock, REGISTRY, publisher=publisher, observer=observer)


def submitted(uow: InMemoryUnitOfWork, user: User, task_type: str, **fields: Any) -> Task:
    task = make_task(user=user, task_type=task_type, **fields)
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def test_the_runner_tells_its_observer_of_each_start_and_outcome_with_type_and_queue(
    runner: RunTask, observer: RecordingObserver, uow: InMemoryUnitOfWork, alice: User
) -> None:
    ok = submitted(uow, alice, "succeeds", priority=Priority.HIGH)
    bad = submitted(uow, alice, "fails")
    retried = submitted(uow, alice, "flaky", priority=Priority.LOW)

    for task in (ok, bad, retried):
        runner.execute(task.id)

    assert observer.events == [
        ("started", "succeeds", "high_priority", ""),
        ("finished", "succeeds", "high_priority", "Completed"),
        ("started", "fails", "default", ""),
        ("finished", "fails", "default", "Failed"),
        ("started", "flaky", "low_priority", ""),
        ("finished", "flaky", "low_priority", "Retried"),
    ]


def test_a_delivery_that_is_not_started_is_not_observed(
    runner: RunTask, observer: RecordingObserver, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "succeeds")
    runner.execute(task.id)
    observer.events.clear()

    assert isinstance(runner.execute(task.id), Skipped)
    assert observer.events == []


def a_run(task_type: str = "countdown", queue: str = "default") -> TaskRun:
    return TaskRun(
        task_id=TaskId(uuid.uuid4()),
        run_token=RunToken("t"),
        task_type=task_type,
        queue=queue,
        args=[],
        kwargs={},
        attempt=1,
        max_attempts=3,
    )


def test_the_prometheus_observer_counts_runs_by_outcome_task_type_and_queue() -> None:
    registry = CollectorRegistry()
    observer = PrometheusRunObserver(registry)
    outcomes = [Completed(1), Completed(2), Failed("E", "m"), Retried("E", "m", 1.0), Cancelled()]

    for outcome in outcomes:
        run = a_run()
        observer.started(run)
        observer.finished(run, outcome, 0.2)
    observer.started(a_run(queue="high_priority"))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    labels = {"task_type": "countdown", "queue": "default"}
    assert value("taskhub_tasks_started_total", **labels) == 5
    assert value("taskhub_tasks_started_total", task_type="countdown", queue="high_priority") == 1
    assert value("taskhub_tasks_succeeded_total", **labels) == 2
    assert value("taskhub_tasks_failed_total", **labels) == 1
    assert value("taskhub_tasks_retried_total", **labels) == 1
    assert value("taskhub_tasks_cancelled_total", **labels) == 1
    assert value("taskhub_task_run_seconds_count", task_type="countdown") == 5
    assert value("taskhub_task_run_seconds_bucket", task_type="countdown", le="0.25") == 5


def test_a_run_taken_back_by_the_reaper_is_counted_as_taken_back_not_as_cancelled() -> None:
    registry = CollectorRegistry()
    observer = PrometheusRunObserver(registry)
    run = a_run()

    observer.started(run)
    observer.finished(run, TakenBack(status="pending"), 0.2)

    labels = {"task_type": "countdown", "queue": "default"}
    assert registry.get_sample_value("taskhub_tasks_taken_back_total", labels) == 1
    assert registry.get_sample_value("taskhub_tasks_cancelled_total", labels) is None


def collected(collector: BacklogCollector) -> dict[str, dict[str, float]]:
    return {
        family.name: {next(iter(s.labels.values()), ""): s.value for s in family.samples}
        for family in collector.collect()
    }


def test_the_backlog_gauges_show_every_queue_and_every_status(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    for _ in range(2):
        submitted(uow, alice, "succeeds")
    depths = {"high_priority": 0, "default": 2, "low_priority": 5}
    collector = BacklogCollector(lambda: depths, lambda: CountTasksByStatus(uow))

    gauges = collected(collector)

    assert gauges["taskhub_queue_depth"] == depths
    assert gauges["taskhub_tasks_by_status"] == {
        status.value: (2 if status is TaskStatus.PENDING else 0) for status in TaskStatus
    }


def test_a_backlog_source_that_is_down_leaves_its_gauge_empty_not_the_scrape(
    uow: InMemoryUnitOfWork,
) -> None:
    def broker_down() -> dict[str, int]:
        raise DependencyUnavailableError("message broker unavailable", dependency="broker")

    collector = BacklogCollector(broker_down, lambda: CountTasksByStatus(uow))

    gauges = collected(collector)

    assert gauges["taskhub_queue_depth"] == {}
    assert gauges["taskhub_tasks_by_status"]["pending"] == 0


def test_the_waiting_gauges_show_each_queues_oldest_wait_and_the_relays_backlog(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    waiting = make_task(user=alice, priority=Priority.HIGH)
    with uow:
        uow.tasks.add(waiting)
        uow.commit()
    clock = FixedClock(waiting.created_at + timedelta(minutes=7))
    collector = BacklogCollector(
        dict, lambda: CountTasksByStatus(uow), lambda: MeasureWaitingTasks(uow, clock)
    )

    samples = {
        (s.name, s.labels.get("queue")): s.value
        for family in collector.collect()
        for s in family.samples
    }

    assert samples[("taskhub_oldest_waiting_task_seconds", "high_priority")] == 420.0
    assert samples[("taskhub_oldest_waiting_task_seconds", "default")] == 0.0
    assert samples[("taskhub_oldest_waiting_task_seconds", "low_priority")] == 0.0
    assert samples[("taskhub_tasks_undispatched", None)] == 1
    assert samples[("taskhub_queue_work", "high_priority")] == 1
    assert samples[("taskhub_queue_work", "default")] == 0


def test_the_held_gauge_shows_each_queues_tasks_held_back_by_reason(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    shared, limited = make_task(user=alice), make_task(user=alice, priority=Priority.LOW)
    shared.hold(HoldReason.FAIR_SHARE)
    limited.hold(HoldReason.RATE_LIMIT)
    with uow:
        uow.tasks.add_many([shared, limited])
        uow.commit()
    collector = BacklogCollector(
        dict, lambda: CountTasksByStatus(uow), lambda: MeasureWaitingTasks(uow, FixedClock())
    )

    held = {
        (s.labels["queue"], s.labels["reason"]): s.value
        for family in collector.collect()
        for s in family.samples
        if s.name == "taskhub_queue_held_tasks"
    }

    assert held[("default", "fair_share")] == 1
    assert held[("low_priority", "rate_limit")] == 1
    assert held[("default", "concurrency")] == 0
    assert len(held) == 3 * len(HoldReason)  # every queue, every reason
