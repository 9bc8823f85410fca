"""A unit of work over an InMemoryStore: changes are staged, and published on commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.in_memory.history import InMemoryAttemptRepository, InMemoryTaskLogRepository
from adapters.in_memory.repositories import (
    InMemoryModelRepository,
    InMemoryStore,
    InMemoryTaskRepository,
    InMemoryUserRepository,
)
from adapters.in_memory.table import InMemoryTable
from application.ports import UnitOfWork


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.commits = 0

    def __enter__(self) -> Self:
        self._start()
        return self

    def _start(self) -> None:
        self._tables = (
            InMemoryTable(
                self.store.tasks, name="task", version_of=lambda t: (t.status, t.run_token)
            ),
            InMemoryTable(self.store.users, name="user"),
            InMemoryTable(self.store.models, name="model", version_of=lambda m: m.status),
        )
        tasks, users, models = self._tables
        self.tasks = InMemoryTaskRepository(tasks)
        self.users = InMemoryUserRepository(users)
        self.models = InMemoryModelRepository(models, tasks)
        exists = lambda task_id: any(t.id == task_id for t in tasks.rows())  # noqa: E731
        self.attempts: InMemoryAttemptRepository = InMemoryAttemptRepository(
            self.store.attempts, exists
        )
        self.task_logs: InMemoryTaskLogRepository = InMemoryTaskLogRepository(
            self.store.task_logs, exists
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        for table in self._tables:
            table.check()
        for table in self._tables:
            table.apply()
        self.attempts.apply()
        self.task_logs.apply()
        self.commits += 1

    def rollback(self) -> None:
        self._start()  # staged changes are dropped with the old tables
