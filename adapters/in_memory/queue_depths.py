"""Queue depths for unit tests: whatever the test says the broker holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError
from application.ports import QueueDepths


@dataclass
class FixedQueueDepths(QueueDepths):
    """`waiting` per queue (absent: 0); `reachable=False` is a broker that is down."""

    waiting: dict[str, int] = field(default_factory=dict)
    reachable: bool = True

    def read(self) -> dict[str, int]:
        if not self.reachable:
            raise DependencyUnavailableError("broker is down", dependency="broker")
        return dict(self.waiting)
