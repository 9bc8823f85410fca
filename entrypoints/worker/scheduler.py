"""The scheduler loop: publishes due delayed tasks and fires due schedules, a fraction of a
second apart, while this process holds the scheduler lease."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError, FencedOffError
from application.ports import Lease, LeaseLock
from application.use_cases.claim_scheduler_fence import ClaimSchedulerFence
from application.use_cases.fire_due_schedules import FireDueSchedules
from application.use_cases.release_due_tasks import ReleaseDueTasks

logger = logging.getLogger(__name__)


@dataclass
class SchedulerLoop:
    """Every tick: hold (take or renew) the lease; only the holder works. Any number of
    these may run (in every Beat, or `taskhub scheduler`): one works, the others stand by
    and one of them takes over within the lease's length after the holder dies. Work done
    under a lease carries its fence (the lease's generation, claimed in the database when
    the lease is new: see ClaimSchedulerFence), so a holder that stalled past its lease and
    woke up is refused by the database (FencedOffError) instead of firing twice."""

    lease: LeaseLock
    release_due_tasks: Callable[[], ReleaseDueTasks]
    fire_due_schedules: Callable[[], FireDueSchedules]
    claim_fence: Callable[[], ClaimSchedulerFence]
    tick_seconds: float
    stopping: threading.Event = field(default_factory=threading.Event)
    # The lease this loop claimed its fence for, and that fence.
    _claimed: tuple[Lease, int] | None = None

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
            fence = self._fence_of(lease)
            released = self.release_due_tasks().execute()
            fired = self.fire_due_schedules().execute(fence)
        except FencedOffError as exc:
            logger.warning("scheduler lease superseded, standing by: %s", exc)
            self._claimed = None
            self.lease.release()
            return False
        except DependencyUnavailableError as exc:
            logger.warning("scheduler tick skipped: %s", exc)
            return True
        if released or fired:
            logger.info("scheduler: %d delayed task(s) published, %d run(s) fired", released, fired)
        return True

    def _fence_of(self, lease: Lease) -> int:
        """The fence this lease works under, claimed in the database once per lease (each
        acquisition is a new Lease object, even if a counter that started again repeats a
        generation)."""
        if self._claimed is not None and self._claimed[0] is lease:
            return self._claimed[1]
        fence = self.claim_fence().execute(lease.generation)
        if fence != lease.generation:
            logger.warning(
                "scheduler lease generation %d is not above the fences stored (the lock "
                "service lost its counter): working under fence %d",
                lease.generation,
                fence,
            )
        self._claimed = (lease, fence)
        return fence

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
