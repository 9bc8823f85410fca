"""A unit of work over an InMemoryStore: work on a copy, publish it on commit."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.in_memory.repositories import (
    InMemoryModelRepository,
    InMemoryStore,
    InMemoryTaskRepository,
    InMemoryUserRepository,
)
from application.ports import UnitOfWork


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.commits = 0

    def __enter__(self) -> Self:
        self._working = copy.deepcopy(self.store)
        self.tasks = InMemoryTaskRepository(self.store.tasks, self._working.tasks)
        self.users = InMemoryUserRepository(self._working.users)
        self.models = InMemoryModelRepository(
            self.store.models, self._working.models, self._working.tasks
        )
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()

    def commit(self) -> None:
        for name in ("tasks", "users", "models"):
            committed = getattr(self.store, name)
            committed.clear()
            committed.update(getattr(self._working, name))
        self._committed = True
        self.commits += 1

    def rollback(self) -> None:
        self._working = copy.deepcopy(self.store)
