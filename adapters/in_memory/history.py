"""In-memory attempts and task logs: staged per unit of work, published on commit, and gone
with their task as a foreign key's cascade would take them."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from application.ports import AttemptRepository, TaskLogRepository
from domain.attempt import Attempt, TaskLogLine
from domain.task import TaskId


class InMemoryAttemptRepository(AttemptRepository):
    def __init__(
        self, committed: dict[tuple[TaskId, int], Attempt], exists: Callable[[TaskId], bool]
    ) -> None:
        self._committed = committed
        self._exists = exists
        self._staged: dict[tuple[TaskId, int], Attempt] = {}

    def add(self, attempt: Attempt) -> None:
        key = (attempt.task_id, attempt.number)
        if key not in self._committed and key not in self._staged:
            self._staged[key] = attempt

    def list(self, task_id: TaskId) -> list[Attempt]:
        if not self._exists(task_id):
            return []
        rows = {**self._committed, **self._staged}
        return sorted((a for a in rows.values() if a.task_id == task_id), key=lambda a: a.number)

    def ended_since(self, since: datetime, *, limit: int) -> builtins.list[Attempt]:
        rows = {**self._committed, **self._staged}.values()
        ended = [a for a in rows if a.ended_at > since and self._exists(a.task_id)]
        return sorted(ended, key=lambda a: a.ended_at, reverse=True)[:limit]

    def apply(self) -> None:
        self._committed.update(self._staged)
        self._staged.clear()


class InMemoryTaskLogRepository(TaskLogRepository):
    def __init__(
        self, committed: dict[TaskId, list[TaskLogLine]], exists: Callable[[TaskId], bool]
    ) -> None:
        self._committed = committed
        self._exists = exists
        self._staged: dict[TaskId, list[TaskLogLine]] = {}

    def append(self, lines: Sequence[TaskLogLine], *, keep: int) -> list[TaskLogLine]:
        if not lines:
            return []
        task_id = lines[0].task_id
        current = self._staged.get(task_id, list(self._committed.get(task_id, [])))
        last = current[-1].seq or 0 if current else 0
        numbered = [replace(line, seq=last + n) for n, line in enumerate(lines, start=1)]
        self._staged[task_id] = (current + numbered)[-keep:]
        return numbered

    def page(self, task_id: TaskId, *, after: int | None, limit: int) -> list[TaskLogLine]:
        if not self._exists(task_id):
            return []
        lines = self._staged.get(task_id, self._committed.get(task_id, []))
        return [line for line in lines if after is None or (line.seq or 0) > after][:limit]

    def apply(self) -> None:
        self._committed.update(self._staged)
        self._staged.clear()
