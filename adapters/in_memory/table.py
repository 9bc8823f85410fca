"""One in-memory table as a unit of work sees it: committed rows plus its own staged changes."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from domain.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError

K = TypeVar("K", bound=Hashable)
E = TypeVar("E")


class InMemoryTable(Generic[K, E]):
    """Behaves like a SQL table under a transaction: copies out, only changed fields in,
    compare-and-set on `version_of` (checked on update and again at commit, as a row lock
    would guarantee), nothing visible to others before `apply`."""

    def __init__(
        self, committed: dict[K, E], *, name: str, version_of: Callable[[E], object] | None = None
    ) -> None:
        self._committed = committed
        self._name = name
        # Without a version, writes are last-writer-wins.
        self._version_of: Callable[[E], object] = version_of or (lambda _: None)
        self._versioned = version_of is not None
        self._staged: dict[K, E | None] = {}  # None: deleted
        self._loaded: dict[K, E] = {}
        self._based_on: dict[K, object] = {}

    def rows(self) -> Iterator[E]:
        for key in self._committed.keys() | self._staged.keys():
            row = self._current(key)
            if row is not None:
                yield row

    def get(self, key: K) -> E:
        row = self._current(key)
        if row is None:
            raise NotFoundError(f"{self._name} {key} not found", **{f"{self._name}_id": str(key)})
        return self.loaded(row, key)

    def loaded(self, row: E, key: K) -> E:
        """A detached copy of `row`, remembered as what the caller read."""
        self._loaded[key] = copy.deepcopy(row)
        return copy.deepcopy(row)

    def add(self, key: K, row: E) -> None:
        if self._current(key) is not None:
            raise AlreadyExistsError(f"{self._name} {key} already exists", field="id")
        self._staged[key] = copy.deepcopy(row)
        self._loaded[key] = copy.deepcopy(row)

    def update(self, key: K, row: E) -> None:
        current = self._current(key)
        if current is None:
            raise NotFoundError(f"{self._name} {key} not found", **{f"{self._name}_id": str(key)})
        seen = self._loaded.get(key)
        if seen is None and not self._versioned:
            seen = current
        if seen is None or self._version_of(current) != self._version_of(seen):
            raise ConcurrencyConflictError(f"{self._name} {key} was changed by another writer")
        if key not in self._staged:
            self._based_on[key] = self._version_of(current)
        self._staged[key] = self._merge(current, seen, row)
        self._loaded[key] = copy.deepcopy(row)

    def force(self, key: K, **changes: Any) -> None:
        """Change columns without a compare-and-set, as a foreign key action would."""
        current = self._current(key)
        if current is not None:
            self._staged[key] = dataclasses.replace(current, **changes)  # type: ignore[type-var]

    def delete(self, key: K) -> None:
        self._staged[key] = None

    def check(self) -> None:
        for key, version in self._based_on.items():
            row = self._committed.get(key)
            if row is not None and self._version_of(row) != version:
                raise ConcurrencyConflictError(f"{self._name} {key} was changed by another writer")

    def apply(self) -> None:
        for key, row in self._staged.items():
            if row is None:
                self._committed.pop(key, None)
            else:
                self._committed[key] = row
        self._staged.clear()
        self._based_on.clear()

    def _current(self, key: K) -> E | None:
        if key in self._staged:
            return self._staged[key]
        return self._committed.get(key)

    @staticmethod
    def _merge(current: E, seen: E, new: E) -> E:
        # Only what this writer changed, like the SQL adapter's UPDATE of changed columns.
        merged = copy.deepcopy(current)
        for f in dataclasses.fields(new):  # type: ignore[arg-type]
            value = getattr(new, f.name)
            if _serialised(value) != _serialised(getattr(seen, f.name)):
                setattr(merged, f.name, copy.deepcopy(value))
        return merged


def _serialised(value: Any) -> str:
    # As a column would hold it: 1, 1.0 and True differ, unlike in Python.
    return json.dumps(value, sort_keys=True, default=repr)
