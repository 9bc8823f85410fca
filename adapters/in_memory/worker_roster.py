"""A worker roster for unit tests: the consumers it is given, or down."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError
from application.ports import WorkerRoster


@dataclass
class FixedWorkerRoster(WorkerRoster):
    online: dict[str, int] = field(default_factory=dict)
    down: bool = False

    def consumers(self) -> dict[str, int]:
        if self.down:
            raise DependencyUnavailableError("the broker is unavailable", dependency="broker")
        return dict(self.online)
