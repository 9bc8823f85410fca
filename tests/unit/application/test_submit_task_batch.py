from __future__ import annotations

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.argument_limits import ArgumentLimits
from application.errors import InvalidBatchError
from application.publishing import TaskPublisher
from application.submission import TaskSubmission
from application.use_cases.register_model import RegisterModel
from application.use_cases.submit_task_batch import SubmitTaskBatch
from domain.errors import PermissionDeniedError, QuotaExceededError, ValidationError
from domain.model import ModelId, ModelType
from domain.task import Priority, TaskStatus
from domain.user import User


def sleep(seconds: object = 1, *, model_id: ModelId | None = None) -> TaskSubmission:
    return TaskSubmission(
        name="wait", task_type="sleep", kwargs={"seconds": seconds}, model_id=model_id
    )


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTaskBatch:
    return SubmitTaskBatch(
        uow=uow,
        catalog=catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=5,
        max_batch_size=4,
        argument_limits=ArgumentLimits(max_bytes=100),
    )


def test_every_task_of_a_batch_is_stored_pending_and_published_in_order(
    submit: SubmitTaskBatch,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
) -> None:
    batch = [sleep(1), TaskSubmission(name="hash", task_type="checksum"), sleep(2)]

    tasks = submit.execute(alice, batch, request_id="req-1")

    assert [t.task_type for t in tasks] == ["sleep", "checksum", "sleep"]
    assert [t.priority for t in tasks] == [Priority.NORMAL, Priority.HIGH, Priority.NORMAL]
    assert dispatcher.enqueued_ids == [t.id for t in tasks]
    with uow:
        stored = [uow.tasks.get(t.id) for t in tasks]
    assert all(s.status is TaskStatus.PENDING and s.dispatched for s in stored)
    assert {s.request_id for s in stored} == {"req-1"}
    assert [s.kwargs for s in stored] == [{"seconds": 1}, {}, {"seconds": 2}]


def test_invalid_tasks_are_named_by_position_and_nothing_is_stored_or_queued(
    submit: SubmitTaskBatch,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
) -> None:
    batch = [
        sleep(1),
        TaskSubmission(name="no seconds", task_type="sleep", kwargs={}),
        TaskSubmission(name="unknown", task_type="no_such_type"),
        TaskSubmission(name="  ", task_type="checksum"),
    ]

    with pytest.raises(InvalidBatchError) as error:
        submit.execute(alice, batch)

    assert [field for field, _ in error.value.field_errors] == [
        "tasks[1].kwargs.seconds",
        "tasks[2].task_type",
        "tasks[3].name",
    ]
    assert uow.store.tasks == {}
    assert dispatcher.enqueued == []


def test_argument_caps_apply_to_each_task_of_a_batch(
    submit: SubmitTaskBatch, uow: InMemoryUnitOfWork, alice: User
) -> None:
    with pytest.raises(InvalidBatchError) as error:
        submit.execute(alice, [sleep(1), sleep("x" * 200)])

    assert [field for field, _ in error.value.field_errors] == ["tasks[1].kwargs"]
    assert uow.store.tasks == {}


def test_a_batch_must_hold_one_to_max_batch_size_tasks(
    submit: SubmitTaskBatch, uow: InMemoryUnitOfWork, alice: User
) -> None:
    for size in (0, 5):
        with pytest.raises(ValidationError) as error:
            submit.execute(alice, [sleep()] * size)

        assert error.value.field == "tasks"
    assert uow.store.tasks == {}


def test_the_quota_must_hold_the_whole_batch(
    submit: SubmitTaskBatch, uow: InMemoryUnitOfWork, alice: User
) -> None:
    submit.execute(alice, [sleep()] * 2)

    with pytest.raises(QuotaExceededError) as error:
        submit.execute(alice, [sleep()] * 4)

    assert error.value.limit == 5
    assert len(uow.store.tasks) == 2
    assert len(submit.execute(alice, [sleep()] * 3)) == 3


def test_a_task_may_reference_only_a_model_its_owner_can_read(
    submit: SubmitTaskBatch, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, bob: User
) -> None:
    model = RegisterModel(uow=uow, clock=clock).execute(
        bob, name="bobs", model_type=ModelType.CUSTOM, artifact_location="/m"
    )

    with pytest.raises(InvalidBatchError) as error:
        submit.execute(alice, [sleep(), sleep(model_id=model.id), sleep(model_id=model.id)])

    assert [field for field, _ in error.value.field_errors] == [
        "tasks[1].model_id",
        "tasks[2].model_id",
    ]
    [task] = submit.execute(bob, [sleep(model_id=model.id)])
    assert task.model_id == model.id


def test_a_batch_survives_a_broker_outage_and_is_left_for_the_relay(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    alice: User,
    publisher_with_broker_down: TaskPublisher,
) -> None:
    submit = SubmitTaskBatch(
        uow=uow,
        catalog=catalog,
        clock=clock,
        max_active_tasks=5,
        publisher=publisher_with_broker_down,
    )

    tasks = submit.execute(alice, [sleep(), sleep()])

    with uow:
        assert [uow.tasks.get(t.id).dispatched for t in tasks] == [False, False]


def test_an_inactive_user_cannot_submit_a_batch(
    submit: SubmitTaskBatch, uow: InMemoryUnitOfWork, alice: User
) -> None:
    alice.deactivate()

    with pytest.raises(PermissionDeniedError):
        submit.execute(alice, [sleep()])

    assert uow.store.tasks == {}
