"""Re-queueing (or failing) running tasks whose worker stopped heart-beating."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from application.errors import DependencyUnavailableError
from application.flow_control import in_key_order
from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.running.ending import run_ended
from domain.errors import ConflictError, NotFoundError
from domain.task import Task, TaskError, TaskStatus

logger = logging.getLogger(__name__)

WORKER_LOST = "WorkerLostError"
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass
class DatabaseUptime:
    """How long writers have been able to write without a break, as the reaper's runs saw
    it: each run takes the database's write lock and notes whether it came at once. Uptime
    counts from the first run whose lock came at once after a run whose did not (it waited,
    or the database did not answer), or after runs further apart than the longest silence
    the reaper may trust. One per process (Beat's); the default assumes it never broke."""

    since: datetime | None = _LONG_AGO
    seen_at: datetime | None = None  # the last run that took the lock

    def down(self) -> None:
        self.since = None

    def restart(self, at: datetime) -> None:
        """Writes went through only just now, after a wait."""
        self.since = self.seen_at = at

    def writable(self, at: datetime, *, waited: bool, longest_gap: timedelta) -> timedelta:
        """Writes went through at `at` (`waited` for the lock first, or not); how long they
        have gone through without a break, as far as the runs can tell."""
        unseen = self.seen_at is not None and at - self.seen_at > longest_gap
        if waited or unseen or self.since is None:
            self.since = at
        self.seen_at = at
        return at - self.since


@dataclass(frozen=True, slots=True)
class ReapStaleTasks:
    """Rules: a running task whose last heartbeat is older than `stale_after` lost its worker
    (killed, crashed, cut off). It is retried like any run that ended without a result, so
    it goes back to pending while attempts remain, else fails saying why. Each reap is a
    compare-and-set on the run, so two reapers, or a worker that wakes up, cannot both win.
    Locks are taken in the order of docs/adr/0018 (workflows, task rows by id, concurrency
    keys), so a reap racing a workflow's cancel or a run's end waits instead of deadlocking.
    Silence counts only while workers could write: during an outage no worker can heartbeat,
    and a live run taken back when it ends would lose the result it is writing. A database
    that answers reads but holds writes (an SQLite write lock held by a VACUUM or an import)
    silences them as surely. So each run first takes the write lock, as a worker's write
    would, and nothing is reaped until `uptime` has lasted `stale_after` (which must exceed
    the reap interval plus the heartbeat interval): a run whose lock waited longer than
    `patience`, or that the database did not answer, starts it again. That run is the proof,
    not the runs before it, which may have only read: a reap that took the lock in the last
    second of a long hold sees every worker silent, and must not believe it. A reap whose
    own writes waited longer than `patience` (row locks on PostgreSQL) is rolled back too.
    Returns the tasks reaped.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock
    stale_after: timedelta
    batch_size: int
    uptime: DatabaseUptime = field(default_factory=DatabaseUptime)
    patience: timedelta = timedelta(seconds=1)

    def execute(self) -> list[Task]:
        now = self.clock.now()
        try:
            released: list[Task] = []  # held tasks whose slot a failed run gave up
            reaped = self._reap(now, released)
        except DependencyUnavailableError:
            self.uptime.down()
            raise
        for task in reaped:
            logger.warning("reaped task %s: %s -> %s", task.id, task.error, task.status.value)
        self.publisher.publish([t for t in reaped if t.status is TaskStatus.PENDING])
        self.publisher.publish(released)
        return reaped

    def _reap(self, now: datetime, released: list[Task]) -> list[Task]:
        reaped: list[Task] = []
        with self.uow:
            self.uow.lock_for_writing()
            writable_at = self.clock.now()
            uptime = self.uptime.writable(
                writable_at,
                waited=writable_at - now > self.patience,
                # Beat runs the reaper more often than stale_after: a gap of twice that means
                # Beat was stopped, starved or suspended, and nobody watched the writes.
                longest_gap=2 * self.stale_after,
            )
            if uptime < self.stale_after:
                return []  # a silence now may be the outage's or the lock's, not a dead worker's
            for task in self._hold_stale(heartbeat_before=now - self.stale_after):
                silent_for = (now - (task.heartbeat_at or now)).total_seconds()
                error = TaskError(
                    WORKER_LOST, f"worker stopped heart-beating {silent_for:.0f}s ago"
                )
                try:
                    task.abandon_run(error=error, at=now)
                    self.uow.tasks.update(task)
                except ConflictError:
                    continue  # the worker wrote after all, or another reaper got it
                reaped.append(task)
            # What follows each end takes concurrency keys, after every task row, one key
            # after the other in their order.
            for task in in_key_order(reaped):
                released += run_ended(self.uow, task, at=now)
            finished = self.clock.now()
            if reaped and finished - now > self.patience:
                logger.warning(
                    "reaping waited %.1fs for the database: the silence it found may be the "
                    "wait's; nothing reaped",
                    (finished - now).total_seconds(),
                )
                self.uptime.restart(at=finished)
                released.clear()
                return []
            self.uow.commit()
        return reaped

    def _hold_stale(self, *, heartbeat_before: datetime) -> list[Task]:
        """The silent running tasks, held in the lock order every run's end follows
        (docs/adr/0018): their workflows first, by id, then the tasks' rows, by id, read
        again: one that heart-beat or ended meanwhile is left alone."""
        found = self.uow.tasks.list_stale_running(
            heartbeat_before=heartbeat_before, limit=self.batch_size
        )
        for workflow_id in sorted({t.workflow_id for t in found if t.workflow_id}, key=str):
            with contextlib.suppress(NotFoundError):  # deleted meanwhile, with its tasks
                self.uow.workflows.lock(workflow_id)
        return self.uow.tasks.hold_stale_running(
            [t.id for t in found], heartbeat_before=heartbeat_before
        )
