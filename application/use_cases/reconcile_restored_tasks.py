"""After a restore: the tasks that were in flight when the backup was taken."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReconcileRestoredTasks:
    """Rules: the broker after a restore may hold none of the restored pending tasks'
    messages (or stale ones), so every pending task is marked undispatched and the relay
    publishes it again within its interval (a stale duplicate loses the claim's
    compare-and-set). Running tasks are left to the reaper: their heartbeats stopped with
    the backup, so it takes them back and re-queues them (attempts left) once they are
    stale, and their old runs' late writes are refused by the run token. Tasks finished
    after the backup are gone, as with any restore to a point in time; a message of one
    left in the broker finds no task and the worker logs and drops it.

    Returns how many pending tasks were marked for the relay."""

    uow: UnitOfWork

    def execute(self) -> int:
        with self.uow:
            marked = self.uow.tasks.mark_pending_undispatched()
            self.uow.commit()
        return marked
