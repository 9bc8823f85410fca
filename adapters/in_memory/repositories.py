"""Dict-backed repositories that behave like the SQL ones: copies out, compare-and-set in."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.ports import (
    Cursor,
    ModelQuery,
    ModelRepository,
    TaskQuery,
    TaskRepository,
    UserRepository,
)
from domain.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from domain.model import Model, ModelId
from domain.task import ACTIVE_STATUSES, Task, TaskId, TaskStatus
from domain.user import Email, User, UserId


@dataclass
class InMemoryStore:
    """What has been committed: shared by every unit of work of one test."""

    tasks: dict[TaskId, Task] = field(default_factory=dict)
    users: dict[UserId, User] = field(default_factory=dict)
    models: dict[ModelId, Model] = field(default_factory=dict)


def _newest_first(rows: list[Any], after: Cursor | None, limit: int) -> list[Any]:
    rows = sorted(rows, key=lambda r: (r.created_at, str(r.id)), reverse=True)
    if after is not None:
        rows = [r for r in rows if (r.created_at, str(r.id)) < (after.created_at, after.id)]
    return rows[:limit]


class InMemoryTaskRepository(TaskRepository):
    def __init__(self, committed: dict[TaskId, Task], working: dict[TaskId, Task]) -> None:
        self._committed = committed
        self._working = working
        self._seen: dict[TaskId, tuple[TaskStatus, str | None]] = {}
        self._written: set[TaskId] = set()

    def add(self, task: Task) -> None:
        self._written.add(task.id)
        self._working[task.id] = copy.deepcopy(task)
        self._seen[task.id] = (task.status, task.run_token)

    def get(self, task_id: TaskId) -> Task:
        if task_id not in self._working:
            raise NotFoundError(f"task {task_id} not found", task_id=str(task_id))
        task = copy.deepcopy(self._working[task_id])
        self._seen[task_id] = (task.status, task.run_token)
        return task

    def update(self, task: Task) -> None:
        # Like a row lock: compare with what is committed, or with our own earlier write.
        source = self._working if task.id in self._written else self._committed
        current = source.get(task.id)
        if current is None:
            raise NotFoundError(f"task {task.id} not found", task_id=str(task.id))
        if (current.status, current.run_token) != self._seen.get(task.id):
            raise ConcurrencyConflictError(
                f"task {task.id} was changed by another writer", task_id=str(task.id)
            )
        self._written.add(task.id)
        self._working[task.id] = copy.deepcopy(task)
        self._seen[task.id] = (task.status, task.run_token)

    def delete(self, task: Task) -> None:
        self._working.pop(task.id, None)

    def find(self, query: TaskQuery) -> list[Task]:
        rows = [
            t
            for t in self._working.values()
            if (query.owner_id is None or t.user_id == query.owner_id)
            and (query.status is None or t.status is query.status)
            and (query.task_type is None or t.task_type == query.task_type)
            and (query.priority is None or t.priority is query.priority)
            and (query.model_id is None or t.model_id == query.model_id)
        ]
        return [copy.deepcopy(t) for t in _newest_first(rows, query.after, query.limit)]

    def count_active(self, owner_id: UserId) -> int:
        return sum(
            1
            for t in self._working.values()
            if t.user_id == owner_id and t.status in ACTIVE_STATUSES
        )

    def mark_dispatched(self, task_ids: Sequence[TaskId]) -> None:
        for task_id in task_ids:
            if task_id in self._working:
                self._working[task_id].mark_dispatched()

    def list_undispatched(self, *, created_before: datetime, limit: int) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._working.values()
                if t.status is TaskStatus.PENDING
                and not t.dispatched
                and t.created_at < created_before
            ),
            key=lambda t: t.created_at,
        )
        return [copy.deepcopy(t) for t in rows[:limit]]


class InMemoryUserRepository(UserRepository):
    def __init__(self, working: dict[UserId, User]) -> None:
        self._working = working

    def add(self, user: User) -> None:
        if self.find_by_email(user.email) is not None:
            raise AlreadyExistsError(
                f"a user with email {user.email} already exists", field="email"
            )
        self._working[user.id] = copy.deepcopy(user)

    def get(self, user_id: UserId) -> User:
        if user_id not in self._working:
            raise NotFoundError(f"user {user_id} not found", user_id=str(user_id))
        return copy.deepcopy(self._working[user_id])

    def find_by_email(self, email: Email) -> User | None:
        found = next((u for u in self._working.values() if u.email == email), None)
        return copy.deepcopy(found)

    def update(self, user: User) -> None:
        self._working[user.id] = copy.deepcopy(user)

    def find(self, *, after: Cursor | None, limit: int) -> list[User]:
        return [copy.deepcopy(u) for u in _newest_first(list(self._working.values()), after, limit)]


class InMemoryModelRepository(ModelRepository):
    def __init__(
        self,
        committed: dict[ModelId, Model],
        working: dict[ModelId, Model],
        working_tasks: dict[TaskId, Task],
    ) -> None:
        self._committed = committed
        self._working = working
        self._working_tasks = working_tasks
        self._seen: dict[ModelId, str] = {}
        self._written: set[ModelId] = set()

    def add(self, model: Model) -> None:
        self._check_name_free(model)
        self._written.add(model.id)
        self._working[model.id] = copy.deepcopy(model)
        self._seen[model.id] = model.status

    def get(self, model_id: ModelId) -> Model:
        if model_id not in self._working:
            raise NotFoundError(f"model {model_id} not found", model_id=str(model_id))
        model = copy.deepcopy(self._working[model_id])
        self._seen[model_id] = model.status
        return model

    def update(self, model: Model) -> None:
        source = self._working if model.id in self._written else self._committed
        current = source.get(model.id)
        if current is None:
            raise NotFoundError(f"model {model.id} not found", model_id=str(model.id))
        if current.status != self._seen.get(model.id):
            raise ConcurrencyConflictError(
                f"model {model.id} was changed by another writer", model_id=str(model.id)
            )
        self._check_name_free(model)
        self._written.add(model.id)
        self._working[model.id] = copy.deepcopy(model)
        self._seen[model.id] = model.status

    def delete(self, model: Model) -> None:
        self._working.pop(model.id, None)
        # Mirrors the foreign key's ON DELETE SET NULL: past tasks stay, unlinked.
        for task in self._working_tasks.values():
            if task.model_id == model.id:
                task.model_id = None

    def find(self, query: ModelQuery) -> list[Model]:
        rows = [
            m
            for m in self._working.values()
            if (query.owner_id is None or m.user_id == query.owner_id)
            and (query.status is None or m.status is query.status)
        ]
        return [copy.deepcopy(m) for m in _newest_first(rows, query.after, query.limit)]

    def _check_name_free(self, model: Model) -> None:
        for other in self._working.values():
            if other.id != model.id and other.user_id == model.user_id and other.name == model.name:
                raise AlreadyExistsError(
                    f"you already have a model named {model.name!r}", field="name"
                )
