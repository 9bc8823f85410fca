"""The scheduler loop: publishes due delayed tasks and fires due schedules, a fraction of a
second apart, while this process holds the scheduler lease."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError, FencedOffError
from application.ports import LeaseLock
from application.use_cases.fire_due_schedules import FireDueSchedules
from application.use_cases.release_due_tasks import ReleaseDueTasks

logger = logging.getLogger(__name__)


@dataclass
class SchedulerLoop:
    """Every tick: hold (take or renew) the lease; only the holder works. Any number of
    these may run (in every Beat, or `taskhub scheduler`): one works, the others stand by
    and one of them takes over within the lease's length after the holder dies. Work done
    under a lease carries its generation, so a holder that stalled past its lease and woke
    up is refused by the database (FencedOffError) instead of firing twice."""

    lease: LeaseLock
    release_due_tasks: Callable[[], ReleaseDueTasks]
    fire_due_schedules: Callable[[], FireDueSchedules]
    tick_seconds: float
    stopping: threading.Event = field(default_factory=threading.Event)

    def run_once(self) -> bool:
        """One tick; whether this process held the lease."""
        try:
            lease = self.lease.hold()
        except DependencyUnavailableError as exc:
            logger.warning("scheduler tick skipped: %s", exc)
            return False
        if lease is None:
            return False
        try:
            released = self.release_due_tasks().execute()
            fired = self.fire_due_schedules().execute(lease.generation)
        except FencedOffError as exc:
            logger.warning("scheduler lease superseded, standing by: %s", exc)
            self.lease.release()
            return False
        except DependencyUnavailableError as exc:
            logger.warning("scheduler tick skipped: %s", exc)
            return True
        if released or fired:
            logger.info("scheduler: %d delayed task(s) published, %d run(s) fired", released, fired)
        return True

    def run(self) -> None:
        logger.info("scheduler loop started (tick %.2f s)", self.tick_seconds)
        try:
            while not self.stopping.is_set():
                try:
                    self.run_once()
                except Exception:
                    logger.exception("scheduler tick failed; the next one tries again")
                self.stopping.wait(self.tick_seconds)
        finally:
            self.lease.release()

    def start_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="taskhub-scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
