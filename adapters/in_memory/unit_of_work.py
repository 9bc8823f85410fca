"""A unit of work over an InMemoryStore: changes are staged, and published on commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

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
        self.commits += 1

    def rollback(self) -> None:
        self._start()  # staged changes are dropped with the old tables
