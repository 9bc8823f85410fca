"""A unit of work over an InMemoryStore: changes are staged, and published on commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.in_memory.events import (
    EventStore,
    InMemoryEventRepository,
    InMemoryIdempotencyKeyRepository,
)
from adapters.in_memory.history import InMemoryAttemptRepository, InMemoryTaskLogRepository
from adapters.in_memory.repositories import (
    InMemoryModelRepository,
    InMemoryScheduleFireRepository,
    InMemoryScheduleRepository,
    InMemoryStore,
    InMemoryTaskRepository,
    InMemoryUserRepository,
    InMemoryWorkflowRepository,
    schedule_version,
)
from adapters.in_memory.table import InMemoryTable
from adapters.in_memory.webhooks import InMemoryWebhookRepository
from application.ports import EventChannel, UnitOfWork


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(
        self,
        store: InMemoryStore | None = None,
        event_store: EventStore | None = None,
        event_channel: EventChannel | None = None,
    ) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.event_store = event_store if event_store is not None else self.store.events
        self.event_channel = event_channel
        self.commits = 0

    def __enter__(self) -> Self:
        self._start()
        return self

    def _start(self) -> None:
        self._tables = (
            InMemoryTable(
                self.store.tasks, name="task", version_of=lambda t: (t.status, t.run_token)
            ),
            # As the SQL adapter's guard (adapters/sqlalchemy/repositories/users.py).
            InMemoryTable(
                self.store.users,
                name="user",
                version_of=lambda u: (u.is_active, u.is_admin, u.token_version),
            ),
            InMemoryTable(self.store.models, name="model", version_of=lambda m: m.status),
            InMemoryTable(self.store.workflows, name="workflow"),
        )
        self._schedule_tables = (
            InMemoryTable(self.store.schedules, name="schedule", version_of=schedule_version),
            InMemoryTable(self.store.schedule_fires, name="schedule fire"),
        )
        schedules, fires = self._schedule_tables
        self.schedules = InMemoryScheduleRepository(schedules)
        self.schedule_fires = InMemoryScheduleFireRepository(fires)
        tasks, users, models, workflows = self._tables
        self.tasks = InMemoryTaskRepository(tasks)
        self.users = InMemoryUserRepository(users)
        self.models = InMemoryModelRepository(models, tasks)
        self.workflows = InMemoryWorkflowRepository(workflows, tasks)
        self._keys = InMemoryIdempotencyKeyRepository(self.event_store)
        self._events = InMemoryEventRepository(self.event_store)
        self.idempotency_keys = self._keys
        self.events = self._events
        exists = lambda task_id: any(t.id == task_id for t in tasks.rows())  # noqa: E731
        self.attempts: InMemoryAttemptRepository = InMemoryAttemptRepository(
            self.store.attempts, exists
        )
        self.task_logs: InMemoryTaskLogRepository = InMemoryTaskLogRepository(
            self.store.task_logs, exists
        )
        self.webhooks: InMemoryWebhookRepository = InMemoryWebhookRepository(self.store.webhooks)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        tables = (*self._tables, *self._schedule_tables)
        for table in tables:
            table.check()
        for table in tables:
            table.apply()
        self._keys.apply()
        committed = self._events.apply()
        self.attempts.apply()
        self.task_logs.apply()
        self.webhooks.apply()
        self.commits += 1
        if committed and self.event_channel is not None:
            self.event_channel.publish(committed)

    def rollback(self) -> None:
        self._start()  # staged changes are dropped with the old tables

    def lock_for_writing(self) -> None:
        pass  # one process's dictionaries: no writer is ever held
