"""Beat's scheduler: taskhub's maintenance jobs run inside the Beat process itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

logger = logging.getLogger(__name__)

MAINTENANCE_PREFIX = "taskhub.maintenance."


class InProcessMaintenanceScheduler(PersistentScheduler):  # type: ignore[misc]  # untyped
    """Runs the relay, the reaper and the purge in Beat instead of queueing them for workers.

    Queued, they would wait for a free worker process: with every process busy on long
    tasks, the reaper could not take back a dead worker's task until one finished. Each job
    is a short, batch-limited transaction. Only the Beat holding the maintenance lease runs
    them, so two Beats (one standing by) never double the work; were both to run anyway,
    every write is a compare-and-set. Other schedule entries are sent as usual.
    """

    # Set by create_beat_app: whether this Beat holds the maintenance lease now.
    holds_lease: Callable[[], bool] = staticmethod(lambda: True)

    def adjust(self, n: float | None, drift: float = 0.0) -> float | None:
        # Celery's drift of -10 ms wakes Beat before a job is due; the tick then finds it
        # not due yet and returns no wait, so Beat spins until it is. With jobs every quarter
        # second that was half an idle Beat's CPU: 546 ticks in 9.4 s where 94 do (profiled),
        # 62 -> 37-41 ms of CPU a second. A maintenance job a millisecond late loses nothing.
        return n

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        if not entry.task.startswith(MAINTENANCE_PREFIX):
            super().apply_entry(entry, producer=producer)
            return
        if not self.holds_lease():
            # Another Beat holds the lease and does the work: two would only double it.
            return
        try:
            self.app.tasks[entry.task]()
        except Exception:
            logger.exception("maintenance job %s failed; it runs again next time", entry.name)
