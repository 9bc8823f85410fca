"""The outbox relay: publishes pending tasks whose first publish failed, or whose message the
broker lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.errors import DependencyUnavailableError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from application.publishing import TaskPublisher

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelayUndispatchedTasks:
    """Rules: only tasks older than `grace` are picked up, so a submission that is publishing
    right now is not published twice; at most `batch_size` per run, oldest first.

    First the broker is asked whether a new epoch began (see TaskDispatcher): then messages
    of pending tasks may be gone although the tasks are marked dispatched, so every pending
    task is marked undispatched, and this run relays regardless of age (a young task's
    message may be lost too; a copy published twice is discarded by the claim). The epoch is
    marked recovered only once that is committed, so a database outage meanwhile makes the
    next run try again. Not being able to ask is no reason not to relay.

    Returns how many were published (0 while the broker is still down).
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    dispatcher: TaskDispatcher
    clock: Clock
    grace: timedelta
    batch_size: int

    def execute(self) -> int:
        recovering = self._recover_from_a_new_epoch()
        now = self.clock.now()
        with self.uow:
            tasks = self.uow.tasks.list_undispatched(
                created_before=now if recovering else now - self.grace, limit=self.batch_size
            )
        return len(tasks) if self.publisher.publish(tasks) else 0

    def _recover_from_a_new_epoch(self) -> bool:
        try:
            epoch = self.dispatcher.new_epoch()
        except DependencyUnavailableError as exc:
            logger.warning("cannot ask the broker whether it lost messages: %s", exc)
            return False
        if epoch is None:
            return False
        with self.uow:
            marked = self.uow.tasks.mark_pending_undispatched()
            self.uow.commit()
        # A new epoch with no pending task (a broker's first start, or one that restarted
        # idle) put nothing at risk: a warning then would only teach people to ignore it.
        logger.log(
            logging.WARNING if marked else logging.INFO,
            "broker began a new epoch (%s); its messages may be lost: %d dispatched pending "
            "task(s) marked for the relay to publish again",
            epoch,
            marked,
        )
        try:
            self.dispatcher.mark_epoch_recovered(epoch)
        except DependencyUnavailableError as exc:
            # Marked again next run: more duplicates, nothing lost.
            logger.warning("could not record the broker epoch as recovered: %s", exc)
        return True
