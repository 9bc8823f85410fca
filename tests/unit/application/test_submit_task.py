from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from uuid import uuid4

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.ports import TokenSubject
from application.publishing import TaskPublisher
from application.use_cases.register_model import RegisterModel
from application.use_cases.submit_task import SubmitTask
from domain.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from domain.model import ModelType
from domain.task import Priority, TaskStatus
from domain.user import User, UserId


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTask:
    return SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=3
    )


def test_submitted_task_is_stored_pending_and_published_on_its_priority_queue(
    submit: SubmitTask, uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, alice: User
) -> None:
    task = submit.execute(
        alice, name="wait", task_type="sleep", kwargs={"seconds": 1}, priority=Priority.HIGH
    )

    with uow:
        stored = uow.tasks.get(task.id)
    assert stored.status is TaskStatus.PENDING
    assert stored.user_id == alice.id
    assert stored.dispatched is True
    assert [(e.task_id, e.queue) for e in dispatcher.enqueued] == [(task.id, "high_priority")]


def test_priority_defaults_to_the_task_types_and_attempts_follow_it(
    submit: SubmitTask, alice: User
) -> None:
    task = submit.execute(alice, name="batch", task_type="bulk")

    assert task.priority is Priority.LOW
    assert task.queue == "low_priority"
    assert task.max_attempts == 5


def test_unknown_task_type_is_refused_and_nothing_is_stored_or_queued(
    submit: SubmitTask, uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, alice: User
) -> None:
    with pytest.raises(ValidationError) as error:
        submit.execute(alice, name="x", task_type="no_such_type")

    assert error.value.field == "task_type"
    assert uow.store.tasks == {}
    assert dispatcher.enqueued == []


def test_invalid_arguments_name_the_field_and_store_nothing(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    with pytest.raises(ValidationError) as error:
        submit.execute(alice, name="wait", task_type="sleep", kwargs={})

    assert error.value.field == "kwargs.seconds"
    assert uow.store.tasks == {}


def test_submission_survives_a_broker_outage_and_leaves_the_task_for_the_relay(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    alice: User,
    publisher_with_broker_down: TaskPublisher,
) -> None:
    submit = SubmitTask(
        uow=uow,
        catalog=catalog,
        clock=clock,
        max_active_tasks=3,
        publisher=publisher_with_broker_down,
    )

    task = submit.execute(alice, name="wait", task_type="sleep", kwargs={"seconds": 1})

    with uow:
        stored = uow.tasks.get(task.id)
    assert stored.status is TaskStatus.PENDING
    assert stored.dispatched is False


def test_quota_of_active_tasks_per_user_is_enforced(
    submit: SubmitTask, alice: User, bob: User
) -> None:
    for n in range(3):
        submit.execute(alice, name=f"t{n}", task_type="checksum")

    with pytest.raises(QuotaExceededError) as error:
        submit.execute(alice, name="one too many", task_type="checksum")

    assert error.value.quota == "active_tasks"
    assert error.value.limit == 3
    assert submit.execute(bob, name="bob's own quota", task_type="checksum").user_id == bob.id


def test_the_quota_error_says_how_many_tasks_were_counted_at_least(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    """The check counts no further than the limit, so an owner already beyond it (the limit
    was lowered) is told "at least"."""
    for n in range(3):
        submit.execute(alice, name=f"t{n}", task_type="checksum")
    lowered = replace(submit, max_active_tasks=2)

    with pytest.raises(QuotaExceededError) as error:
        lowered.execute(alice, name="over", task_type="checksum")

    assert "you have at least 2 pending or running tasks; the limit is 2" in str(error.value)


def test_a_task_may_reference_only_a_model_its_owner_can_read(
    submit: SubmitTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, bob: User
) -> None:
    model = RegisterModel(uow=uow, clock=clock).execute(
        bob, name="bobs", model_type=ModelType.CUSTOM, artifact_location="/m"
    )

    with pytest.raises(NotFoundError):
        submit.execute(alice, name="steal", task_type="checksum", model_id=model.id)

    task = submit.execute(bob, name="mine", task_type="checksum", model_id=model.id)
    assert task.model_id == model.id


def test_inactive_users_cannot_submit(submit: SubmitTask, alice: User) -> None:
    alice.deactivate()

    with pytest.raises(PermissionDeniedError):
        submit.execute(alice, name="x", task_type="checksum")


def test_a_token_subject_submits_as_the_user_it_names(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task, replayed = submit.execute_once(
        TokenSubject(alice.id, alice.token_version), None, name="n", task_type="bulk"
    )

    assert replayed is False
    with uow:
        assert uow.tasks.get(task.id).user_id == alice.id


def _deactivated(user: User) -> None:
    user.deactivate()


def _sessions_ended(user: User) -> None:
    user.end_sessions()


@pytest.mark.parametrize(
    ("ending", "refusal"), [(_deactivated, "deactivated"), (_sessions_ended, "revoked")]
)
def test_a_token_subject_that_no_longer_holds_is_refused_and_nothing_is_stored(
    submit: SubmitTask,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
    ending: Callable[[User], None],
    refusal: str,
) -> None:
    subject = TokenSubject(alice.id, alice.token_version)
    with uow:
        user = uow.users.get(alice.id)
        ending(user)
        uow.users.update(user)
        uow.commit()

    with pytest.raises(AuthenticationError, match=refusal):
        submit.execute_once(subject, None, name="n", task_type="bulk")

    assert uow.store.tasks == {}
    assert dispatcher.enqueued == []


def test_a_token_subject_of_a_user_no_longer_there_is_refused(
    submit: SubmitTask, uow: InMemoryUnitOfWork
) -> None:
    with pytest.raises(AuthenticationError, match="no longer exists"):
        submit.execute_once(TokenSubject(UserId(uuid4()), 0), None, name="n", task_type="bulk")

    assert uow.store.tasks == {}
