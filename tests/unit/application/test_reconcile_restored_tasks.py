"""After a restore, pending tasks go back to the relay; running and finished ones stay as
they are (the reaper takes the running ones back once stale)."""

from __future__ import annotations

from datetime import timedelta

from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.reconcile_restored_tasks import ReconcileRestoredTasks
from domain.task import RunToken, TaskStatus
from domain.user import User
from tests.factories import T0, make_task

SECOND = timedelta(seconds=1)


def test_pending_tasks_are_handed_to_the_relay_and_running_ones_left_for_the_reaper(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    pending = [make_task(user=alice) for _ in range(3)]
    running = make_task(user=alice)
    running.start(run_token=RunToken("before-the-backup"), at=T0)
    with uow:
        for task in [*pending, running]:
            uow.tasks.add(task)
        uow.tasks.mark_dispatched([t.id for t in pending], due_at=T0)
        uow.commit()

    marked = ReconcileRestoredTasks(uow).execute()

    with uow:
        undispatched = {
            t.id for t in uow.tasks.list_undispatched(created_before=T0 + SECOND, limit=10)
        }
        still_running = uow.tasks.get(running.id)
    assert marked == 3
    assert undispatched == {t.id for t in pending}
    assert still_running.status is TaskStatus.RUNNING
