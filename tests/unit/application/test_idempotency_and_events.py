"""Idempotency keys of submissions, and the task events every change records, over the
in-memory unit of work."""

from __future__ import annotations

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.events import RecordingEventChannel
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.idempotency import IdempotencyClaim
from application.publishing import TaskPublisher
from application.running.outcomes import Completed
from application.running.record_outcome import RecordOutcome
from application.running.report_progress import ReportProgress
from application.running.start_task import StartTask
from application.submission import TaskSubmission
from application.use_cases.cancel_task import CancelTask
from application.use_cases.purge_expired_events import PurgeExpiredEvents
from application.use_cases.read_task_events import ReadTaskEvents
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_task_batch import SubmitTaskBatch
from domain.errors import NotFoundError, ValidationError
from domain.event import EventKind
from domain.user import User


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTask:
    return SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )


def test_the_same_key_with_the_same_request_returns_the_first_task_without_making_another(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User, dispatcher: RecordingTaskDispatcher
) -> None:
    claim = IdempotencyClaim(key="k1", fingerprint="same")
    first, replayed_first = submit.execute_once(alice, claim, name="a", task_type="bulk")
    second, replayed_second = submit.execute_once(alice, claim, name="a", task_type="bulk")

    assert (replayed_first, replayed_second) == (False, True)
    assert second.id == first.id
    assert len(uow.store.tasks) == 1
    assert len(dispatcher.enqueued) == 1


def test_the_same_key_with_another_request_is_refused_naming_the_header(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    submit.execute_once(alice, IdempotencyClaim("k1", "one"), name="a", task_type="bulk")

    with pytest.raises(ValidationError) as refused:
        submit.execute_once(alice, IdempotencyClaim("k1", "two"), name="b", task_type="bulk")

    assert refused.value.field == "Idempotency-Key"
    assert len(uow.store.tasks) == 1


def test_keys_are_per_user(submit: SubmitTask, alice: User, bob: User) -> None:
    mine, _ = submit.execute_once(alice, IdempotencyClaim("k", "f"), name="a", task_type="bulk")
    theirs, replayed = submit.execute_once(
        bob, IdempotencyClaim("k", "f"), name="a", task_type="bulk"
    )

    assert not replayed
    assert theirs.id != mine.id


def test_a_key_that_is_not_printable_ascii_is_refused_naming_the_header() -> None:
    with pytest.raises(ValidationError) as refused:
        IdempotencyClaim(key="caf\u00e9\n", fingerprint="f")
    assert refused.value.field == "Idempotency-Key"


def test_a_replayed_batch_returns_the_same_tasks(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
) -> None:
    batch = SubmitTaskBatch(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    items = [TaskSubmission("a", "bulk"), TaskSubmission("b", "bulk")]
    first, _ = batch.execute_once(alice, IdempotencyClaim("b1", "f"), items)
    again, replayed = batch.execute_once(alice, IdempotencyClaim("b1", "f"), items)

    assert replayed
    assert [t.id for t in again] == [t.id for t in first]
    assert len(uow.store.tasks) == 2


def test_keys_are_forgotten_after_their_retention(
    submit: SubmitTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    from datetime import timedelta

    claim = IdempotencyClaim("k", "f")
    first, _ = submit.execute_once(alice, claim, name="a", task_type="bulk")
    clock.advance(hours=25)
    PurgeExpiredEvents(
        uow=uow,
        clock=clock,
        event_retention=timedelta(hours=72),
        key_retention=timedelta(hours=24),
        batch_size=100,
    ).execute()

    second, replayed = submit.execute_once(alice, claim, name="a", task_type="bulk")
    assert not replayed
    assert second.id != first.id


def test_every_change_of_a_run_is_an_event_numbered_in_its_owners_sequence_after_commit(
    submit: SubmitTask,
    store_channel: tuple[InMemoryUnitOfWork, RecordingEventChannel],
    clock: FixedClock,
    publisher: TaskPublisher,
    alice: User,
) -> None:
    uow, channel = store_channel
    task = submit.execute(alice, name="a", task_type="bulk")
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    clock.advance(seconds=10)
    ReportProgress(uow=uow, clock=clock).execute(task.id, run.run_token, 20)
    clock.advance(seconds=10)
    ReportProgress(uow=uow, clock=clock).execute(task.id, run.run_token, 40)
    RecordOutcome(uow=uow, publisher=publisher, clock=clock).execute(run, Completed(result=1))

    events = uow.store.events.events
    assert [(e.sequence, e.kind, e.data["status"]) for e in events] == [
        (1, EventKind.STATUS, "pending"),
        (2, EventKind.STATUS, "running"),
        (3, EventKind.PROGRESS, "running"),
        (4, EventKind.PROGRESS, "running"),
        (5, EventKind.STATUS, "completed"),
    ]
    # eta from the rate between the two progress points: 20 points in 10 s, 60 to go.
    assert [e.data["eta_seconds"] for e in events[2:4]] == [None, 30.0]
    assert events[-1].terminal
    assert events[-1].type == "task.completed"
    assert [e.sequence for e in channel.published] == [1, 2, 3, 4, 5]


def test_a_cancellation_is_an_event_and_nothing_is_published_for_a_rolled_back_change(
    store_channel: tuple[InMemoryUnitOfWork, RecordingEventChannel],
    submit: SubmitTask,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    uow, channel = store_channel
    task = submit.execute(alice, name="a", task_type="bulk")
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)
    with uow:
        uow.events.add(uow.store.events.events[0])  # staged, never committed

    assert [e.type for e in channel.published] == ["task.pending", "task.cancelled"]


def test_a_stream_starts_with_the_current_state_and_resumes_after_an_id(
    submit: SubmitTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, bob: User
) -> None:
    read = ReadTaskEvents(uow=uow, clock=clock)
    task = submit.execute(alice, name="a", task_type="bulk")
    other = submit.execute(alice, name="b", task_type="bulk")
    StartTask(uow=uow, clock=clock).execute(task.id)

    start = read.execute(alice, after=None, task_id=task.id)
    resumed = read.execute(alice, after=1, task_id=task.id)
    everything = read.execute(alice, after=0)

    assert [(e.sequence, e.data["status"]) for e in start.events] == [(3, "running")]
    assert [e.sequence for e in resumed.events] == [3]
    assert [e.task_id for e in everything.events] == [task.id, other.id, task.id]
    with pytest.raises(NotFoundError):
        read.execute(bob, after=None, task_id=task.id)


@pytest.fixture
def store_channel(uow: InMemoryUnitOfWork) -> tuple[InMemoryUnitOfWork, RecordingEventChannel]:
    channel = RecordingEventChannel()
    uow.event_channel = channel
    return uow, channel
