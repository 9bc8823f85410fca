"""Queue backlogs for unit tests: whatever the test says was last read."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.ports import QueueBacklog, QueueBacklogs


@dataclass
class FixedQueueBacklogs(QueueBacklogs):
    backlogs: dict[str, QueueBacklog] = field(default_factory=dict)
    asked: int = 0

    def latest(self, queue: str) -> QueueBacklog:
        self.asked += 1
        return self.backlogs.get(queue, QueueBacklog())

    def count_published(self, queue: str, count: int) -> None:
        backlog = self.backlogs.get(queue, QueueBacklog())
        self.backlogs[queue] = QueueBacklog(backlog.depth + count, backlog.held)
