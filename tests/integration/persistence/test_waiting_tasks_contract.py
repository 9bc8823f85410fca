"""`oldest_waiting_by_queue`, `count_active_by_queue` and `count_undispatched` agree on
every backend: the waiting ones count from when they became due (else their creation)."""

from __future__ import annotations

from datetime import timedelta

from domain.task import Priority, RunToken
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_the_oldest_pending_task_of_each_queue_and_the_undispatched_ones_are_found(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    old = make_task(user=owner, priority=Priority.NORMAL, at=T0)
    old.mark_dispatched(due_at=T0 + timedelta(minutes=1))
    newer = make_task(user=owner, priority=Priority.NORMAL, at=T0 + timedelta(minutes=5))
    never_published = make_task(user=owner, priority=Priority.HIGH, at=T0 + timedelta(minutes=2))
    running = make_task(user=owner, priority=Priority.LOW, at=T0 - timedelta(hours=1))
    running.mark_dispatched(due_at=T0)
    running.start(run_token=RunToken("r1"), at=T0)
    save(new_uow, old, newer, never_published, running)

    with new_uow() as uow:
        oldest = uow.tasks.oldest_waiting_by_queue()
        undispatched = uow.tasks.count_undispatched()
        work = uow.tasks.count_active_by_queue()

    assert oldest == {
        "default": T0 + timedelta(minutes=1),
        "high_priority": T0 + timedelta(minutes=2),
    }
    assert undispatched == 2  # newer and never_published
    assert work == {"default": 2, "high_priority": 1, "low_priority": 1}
