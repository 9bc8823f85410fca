"""In-memory task events and idempotency keys: staged in the unit of work, kept on commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from application.ports import EventChannel, EventRepository, IdempotencyKeyRepository
from domain.errors import AlreadyExistsError
from domain.event import EventKind, TaskEvent
from domain.idempotency import IdempotentRequest
from domain.task import TaskId
from domain.user import UserId


@dataclass
class EventStore:
    """What has been committed, shared by every unit of work of one test."""

    events: list[TaskEvent] = field(default_factory=list)
    sequences: dict[UserId, int] = field(default_factory=dict)
    idempotency_keys: dict[tuple[UserId, str], IdempotentRequest] = field(default_factory=dict)


class RecordingEventChannel(EventChannel):
    """Remembers what was published, in order."""

    def __init__(self) -> None:
        self.published: list[TaskEvent] = []

    def publish(self, events: Sequence[TaskEvent]) -> None:
        self.published.extend(events)


class InMemoryIdempotencyKeyRepository(IdempotencyKeyRepository):
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.staged: dict[tuple[UserId, str], IdempotentRequest] = {}
        self.deleted: set[tuple[UserId, str]] = set()

    def hold(self, user_id: UserId, key: str) -> bool:
        return True  # one test thread

    def get(self, user_id: UserId, key: str) -> IdempotentRequest | None:
        pair = (user_id, key)
        return self.staged.get(pair) or self._store.idempotency_keys.get(pair)

    def add(self, request: IdempotentRequest) -> None:
        if self.get(request.user_id, request.key) is not None:
            raise AlreadyExistsError("an idempotency key with this key already exists", field="key")
        self.staged[(request.user_id, request.key)] = request

    def delete_created_before(self, cutoff: datetime) -> int:
        old = {k for k, r in self._store.idempotency_keys.items() if r.created_at < cutoff}
        self.deleted |= old
        return len(old)

    def apply(self) -> None:
        for pair in self.deleted:
            self._store.idempotency_keys.pop(pair, None)
        self._store.idempotency_keys.update(self.staged)


class InMemoryEventRepository(EventRepository):
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.staged: list[TaskEvent] = []
        self._sequences: dict[UserId, int] = {}
        self._cutoff: tuple[datetime, int] | None = None

    def next_sequence(self, user_id: UserId, count: int = 1) -> int:
        current = self._sequences.get(user_id, self._store.sequences.get(user_id, 0))
        self._sequences[user_id] = current + count
        return current + 1

    def add(self, event: TaskEvent) -> None:
        self.staged.append(event)

    def _all(self) -> list[TaskEvent]:
        return sorted(
            [*self._store.events, *self.staged], key=lambda e: (str(e.user_id), e.sequence)
        )

    def after(
        self, user_id: UserId, sequence: int, *, task_id: TaskId | None = None, limit: int
    ) -> list[TaskEvent]:
        events = [
            e
            for e in self._all()
            if e.user_id == user_id
            and e.sequence > sequence
            and (task_id is None or e.task_id == task_id)
        ]
        return events[:limit]

    def latest(self, task_id: TaskId, kind: EventKind | None = None) -> TaskEvent | None:
        events = [
            e for e in self._all() if e.task_id == task_id and (kind is None or e.kind is kind)
        ]
        return max(events, key=lambda e: e.sequence, default=None)

    def last_sequence(self, user_id: UserId) -> int:
        return self._sequences.get(user_id, self._store.sequences.get(user_id, 0))

    def delete_before(self, cutoff: datetime, *, limit: int) -> int:
        old = sorted(
            (e for e in self._store.events if e.occurred_at < cutoff), key=lambda e: e.occurred_at
        )[:limit]
        self._cutoff = (cutoff, limit)
        return len(old)

    def apply(self) -> list[TaskEvent]:
        if self._cutoff is not None:
            cutoff, limit = self._cutoff
            old = sorted(
                (e for e in self._store.events if e.occurred_at < cutoff),
                key=lambda e: e.occurred_at,
            )[:limit]
            self._store.events[:] = [e for e in self._store.events if e not in old]
        self._store.events.extend(self.staged)
        self._store.sequences.update(self._sequences)
        staged, self.staged = self.staged, []
        return staged
