"""A writer that read an old state loses with a conflict instead of overwriting newer work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.errors import ConcurrencyConflictError, NotFoundError
from domain.model import ModelStatus
from domain.task import RunToken, TaskError, TaskStatus
from domain.user import User
from tests.factories import T0, make_model, make_running_task, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

A, B = RunToken("run-a"), RunToken("run-b")


def test_a_start_read_before_a_cancel_loses_to_the_cancel(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))

    with new_uow() as slow:
        stale = slow.tasks.get(task.id)
        with new_uow() as fast:
            fresh = fast.tasks.get(task.id)
            fresh.cancel(at=T0)
            fast.tasks.update(fresh)
            fast.commit()
        stale.start(run_token=A, at=T0)
        with pytest.raises(ConcurrencyConflictError):
            slow.tasks.update(stale)

    with new_uow() as uow:
        assert uow.tasks.get(task.id).status is TaskStatus.CANCELLED


def test_a_worker_holding_a_stale_run_token_loses_to_the_current_run(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_running_task(user=owner, token=A))

    with new_uow() as stale_worker:
        stale = stale_worker.tasks.get(task.id)
        with new_uow() as other:  # run A is re-queued, then claimed again as run B
            requeued = other.tasks.get(task.id)
            requeued.retry(run_token=A, error=TaskError("WorkerLost", "gone"), at=T0)
            requeued.start(run_token=B, at=T0)
            other.tasks.update(requeued)
            other.commit()
        stale.report_progress(run_token=A, percent=50, at=T0)
        with pytest.raises(ConcurrencyConflictError):
            stale_worker.tasks.update(stale)

    with new_uow() as uow:
        current = uow.tasks.get(task.id)
    assert (current.run_token, current.progress.percent) == (B, 0)


def test_one_writer_may_update_the_same_task_twice_in_a_transaction(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))

    with new_uow() as uow:
        loaded = uow.tasks.get(task.id)
        loaded.start(run_token=A, at=T0)
        uow.tasks.update(loaded)
        loaded.report_progress(run_token=A, percent=5, at=T0)
        uow.tasks.update(loaded)
        uow.commit()

    with new_uow() as uow:
        assert uow.tasks.get(task.id).progress.percent == 5


def test_updating_a_task_deleted_meanwhile_is_not_found(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))

    with new_uow() as slow:
        stale = slow.tasks.get(task.id)
        with new_uow() as fast:
            fast.tasks.delete(fast.tasks.get(task.id))
            fast.commit()
        stale.rename("too late")
        with pytest.raises(NotFoundError):
            slow.tasks.update(stale)


def test_a_model_change_read_before_another_status_change_loses(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    model = make_model(user=owner)
    model.start_validation(at=T0)
    model.mark_validated(size=10, sha256="ab" * 32, at=T0)
    save(new_uow, model)

    with new_uow() as slow:
        stale = slow.models.get(model.id)
        with new_uow() as fast:
            fresh = fast.models.get(model.id)
            fresh.start_deployment(at=T0)
            fast.models.update(fresh)
            fast.commit()
        stale.start_validation(at=T0)
        with pytest.raises(ConcurrencyConflictError):
            slow.models.update(stale)

    with new_uow() as uow:
        assert uow.models.get(model.id).status is ModelStatus.DEPLOYING


def test_tasks_updated_together_each_keep_their_own_changes(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    first, second, third = (save(new_uow, make_task(user=owner)) for _ in range(3))

    with new_uow() as uow:
        changed = [uow.tasks.get(task.id) for task in (first, second, third)]
        changed[0].cancel(at=T0)
        changed[1].start(run_token=A, at=T0)  # other columns than the cancel's
        changed[2].cancel(at=T0)
        uow.tasks.update_many(changed)
        uow.commit()

    with new_uow() as uow:
        stored = [uow.tasks.get(task.id) for task in (first, second, third)]
    assert [t.status for t in stored] == [
        TaskStatus.CANCELLED,
        TaskStatus.RUNNING,
        TaskStatus.CANCELLED,
    ]
    assert stored[1].run_token == A


def test_tasks_updated_together_lose_together_when_one_changed_meanwhile(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    kept, taken = (save(new_uow, make_task(user=owner)) for _ in range(2))

    with new_uow() as slow:
        stale = [slow.tasks.get(task.id) for task in (kept, taken)]
        with new_uow() as fast:
            fresh = fast.tasks.get(taken.id)
            fresh.start(run_token=B, at=T0)
            fast.tasks.update(fresh)
            fast.commit()
        for task in stale:
            task.cancel(at=T0)
        with pytest.raises(ConcurrencyConflictError):
            slow.tasks.update_many(stale)

    with new_uow() as uow:
        assert uow.tasks.get(kept.id).status is TaskStatus.PENDING  # nothing half-written
        assert uow.tasks.get(taken.id).run_token == B


def test_a_json_value_equal_in_python_but_not_in_json_is_written(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, replace(make_task(user=owner), result=[1, {"ratio": 1}, [0]]))

    with new_uow() as uow:
        loaded = uow.tasks.get(task.id)
        loaded.result = [True, {"ratio": 1.0}, [False]]  # == the stored value in Python
        uow.tasks.update(loaded)
        uow.commit()

    with new_uow() as uow:
        stored = uow.tasks.get(task.id).result
    assert stored == [True, {"ratio": 1.0}, [False]]
    assert [type(stored[0]), type(stored[1]["ratio"]), type(stored[2][0])] == [bool, float, bool]
