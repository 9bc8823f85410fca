"""`count_overdue` and `list_overdue` agree on every backend: only pending, dispatched tasks
due before the bound, counted per queue and listed due longest ago first."""

from __future__ import annotations

from datetime import timedelta

from domain.task import Priority, RunToken, Task
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

BOUND = T0 + timedelta(minutes=10)


def due(task: Task, *, minutes: float) -> Task:
    task.mark_dispatched(due_at=T0 + timedelta(minutes=minutes))
    return task


def test_overdue_tasks_are_counted_per_queue_and_listed_due_longest_ago_first(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    later, earliest, middle = (
        due(make_task(user=owner, priority=Priority.NORMAL), minutes=m) for m in (9, 1, 5)
    )
    urgent = due(make_task(user=owner, priority=Priority.HIGH), minutes=2)
    not_yet = due(make_task(user=owner, priority=Priority.NORMAL), minutes=11)
    never_published = make_task(user=owner, priority=Priority.NORMAL)
    claimed = due(make_task(user=owner, priority=Priority.NORMAL), minutes=1)
    claimed.start(run_token=RunToken("r1"), at=T0)
    cancelled = due(make_task(user=owner, priority=Priority.LOW), minutes=1)
    cancelled.cancel(at=T0)
    save(new_uow, later, earliest, middle, urgent, not_yet, never_published, claimed, cancelled)

    with new_uow() as uow:
        counts = uow.tasks.count_overdue(due_before=BOUND)
        default = uow.tasks.list_overdue(queue="default", due_before=BOUND, limit=10)
        first_two = uow.tasks.list_overdue(queue="default", due_before=BOUND, limit=2)
        high = uow.tasks.list_overdue(queue="high_priority", due_before=BOUND, limit=10)
        low = uow.tasks.list_overdue(queue="low_priority", due_before=BOUND, limit=10)

    assert counts == {"default": 3, "high_priority": 1}
    assert [t.id for t in default] == [earliest.id, middle.id, later.id]
    assert [t.id for t in first_two] == [earliest.id, middle.id]
    assert [t.id for t in high] == [urgent.id]
    assert low == []


def test_publishing_again_makes_a_task_due_from_then(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, due(make_task(user=owner), minutes=1))

    with new_uow() as uow:
        uow.tasks.mark_dispatched([task.id], due_at=BOUND + timedelta(seconds=1))
        uow.commit()
    with new_uow() as uow:
        counts = uow.tasks.count_overdue(due_before=BOUND)
        stored = uow.tasks.get(task.id)

    assert counts == {}
    assert stored.due_at == BOUND + timedelta(seconds=1)
