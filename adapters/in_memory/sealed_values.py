"""Sealed values of tasks held in a dict, for unit tests of key rotation."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import SealedValues, SealedValueStore
from application.secret_values import holds_sealed
from domain.task import TaskId


class InMemorySealedValueStore(SealedValueStore):
    def __init__(self, values: Sequence[SealedValues] = ()) -> None:
        self.values = {value.task_id: value for value in values}
        self.batches_written = 0

    def sealed_after(self, after: TaskId | None, limit: int) -> list[SealedValues]:
        found = sorted(
            (
                value
                for value in self.values.values()
                if holds_sealed(value.kwargs) or holds_sealed(value.result)
            ),
            key=lambda value: str(value.task_id),
        )
        if after is not None:
            found = [value for value in found if str(value.task_id) > str(after)]
        return found[:limit]

    def replace(self, resealed: Sequence[SealedValues]) -> None:
        self.batches_written += 1
        for value in resealed:
            self.values[value.task_id] = value
