"""`TaskRepository.mark_pending_undispatched` agrees on every backend: every pending task goes
back to the relay, and nothing else is touched."""

from __future__ import annotations

from datetime import timedelta

from domain.task import RunToken, Task, TaskStatus
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

LATER = T0 + timedelta(days=1)


def dispatched(task: Task) -> Task:
    task.mark_dispatched(due_at=T0)
    return task


def test_every_pending_task_is_marked_undispatched_and_counted_once(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    published = [dispatched(make_task(user=owner, at=T0 - timedelta(minutes=m))) for m in (1, 2)]
    never_published = make_task(user=owner)
    running = dispatched(make_task(user=owner))
    running.start(run_token=RunToken("r1"), at=T0)
    completed = dispatched(make_task(user=owner))
    completed.start(run_token=RunToken("r2"), at=T0)
    completed.complete(run_token=RunToken("r2"), result=None, at=T0)
    save(new_uow, *published, never_published, running, completed)

    with new_uow() as uow:
        marked = uow.tasks.mark_pending_undispatched()
        uow.commit()
    with new_uow() as uow:
        again = uow.tasks.mark_pending_undispatched()
        relayed = uow.tasks.list_undispatched(created_before=LATER, limit=10)
        others = [uow.tasks.get(running.id), uow.tasks.get(completed.id)]

    assert (marked, again) == (2, 0)
    assert [t.id for t in relayed] == [published[1].id, published[0].id, never_published.id]
    assert [(t.status, t.dispatched) for t in others] == [
        (TaskStatus.RUNNING, True),
        (TaskStatus.COMPLETED, True),
    ]


def test_marking_is_undone_by_a_rollback(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, dispatched(make_task(user=owner)))

    with new_uow() as uow:
        assert uow.tasks.mark_pending_undispatched() == 1
        # no commit: rolled back on exit
    with new_uow() as uow:
        assert uow.tasks.get(task.id).dispatched is True
