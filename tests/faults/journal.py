"""Reading the journal the fault task types write (tests/faults/task_types.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Event:
    kind: str  # "start" or "done"
    task_id: str
    attempt: int
    pid: int
    at: float  # time.time() on the worker


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def events(self) -> list[Event]:
        events = []
        for line in self.path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 5:  # a line being written is skipped until it is whole
                kind, task_id, attempt, pid, at = parts
                events.append(Event(kind, task_id, int(attempt), int(pid), float(at)))
        return events

    def starts(self) -> Counter[str]:
        return Counter(e.task_id for e in self.events() if e.kind == "start")

    def completions(self) -> Counter[str]:
        return Counter(e.task_id for e in self.events() if e.kind == "done")

    def unfinished_runs(self) -> list[Event]:
        """Start events with no "done" of the same task and attempt after them."""
        events = self.events()
        done = {(e.task_id, e.attempt) for e in events if e.kind == "done"}
        return [e for e in events if e.kind == "start" and (e.task_id, e.attempt) not in done]
