"""Forgetting old task events, webhook deliveries and idempotency keys, as the maintenance
job does for tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class PurgeExpiredEvents:
    """Rules: task events older than `event_retention` (a client resuming from an older id
    gets what is left; see the stream's docs), at most `batch_size` per run; idempotency
    keys older than `key_retention`; webhook deliveries done (succeeded or given up) for as
    long as events are kept, at most `batch_size` per run. Returns how many rows went."""

    uow: UnitOfWork
    clock: Clock
    event_retention: timedelta
    key_retention: timedelta
    batch_size: int

    def execute(self) -> int:
        now = self.clock.now()
        with self.uow:
            events = self.uow.events.delete_before(
                now - self.event_retention, limit=self.batch_size
            )
            keys = self.uow.idempotency_keys.delete_created_before(now - self.key_retention)
            deliveries = self.uow.webhooks.delete_finished_deliveries_before(
                now - self.event_retention, limit=self.batch_size
            )
            self.uow.commit()
        return events + keys + deliveries
