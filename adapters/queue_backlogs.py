"""Queue backlogs read in the background, so a submission asks a memory read, not the
broker and the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from application.ports import QueueBacklog, QueueBacklogs

logger = logging.getLogger(__name__)


class CachedQueueBacklogs(QueueBacklogs):
    """The last reading of `read`, taken again in a background thread once it is older than
    `max_age` seconds and someone asks: stale by at most `max_age` plus one reading while
    submissions keep coming, and no reading at all while none do. A reading that fails
    keeps the previous one (logged), and is tried again after `max_age`."""

    def __init__(
        self,
        read: Callable[[], Mapping[str, QueueBacklog]],
        *,
        max_age: float,
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._seconds = seconds
        self._backlogs: Mapping[str, QueueBacklog] = {}
        self._read_at: float | None = None
        self._reading = False
        # Published by this process since the reading under way began.
        self._published: dict[str, int] = {}
        self._lock = threading.Lock()

    def latest(self, queue: str) -> QueueBacklog:
        with self._lock:
            stale = self._read_at is None or self._seconds() - self._read_at > self._max_age
            if stale and not self._reading:
                self._reading = True
                threading.Thread(
                    target=self._refresh, name="taskhub-queue-backlogs", daemon=True
                ).start()
            backlog = self._backlogs.get(queue, QueueBacklog())
            published = self._published.get(queue, 0)
            return replace(backlog, depth=backlog.depth + published) if published else backlog

    def count_published(self, queue: str, count: int) -> None:
        with self._lock:
            self._published[queue] = self._published.get(queue, 0) + count

    def refresh(self) -> None:
        """Read now, in the caller's thread (a test, or a process that wants a first
        reading before it serves)."""
        with self._lock:
            self._reading = True
        self._refresh()

    def _refresh(self) -> None:
        with self._lock:
            # What is published from now on may be missing from this reading; what was
            # published before is in it (counted twice for a moment, at worst: safe).
            published, self._published = self._published, {}
        backlogs: Mapping[str, QueueBacklog] | None = None
        try:
            backlogs = self._read()
        except Exception as exc:  # a reading never fails a submission
            logger.warning("queue backlogs not read, the last reading stays: %s", exc)
        with self._lock:
            if backlogs is not None:
                self._backlogs = backlogs
            else:  # the old reading stays, and so does what was published since
                for queue, count in published.items():
                    self._published[queue] = self._published.get(queue, 0) + count
            self._read_at = self._seconds()
            self._reading = False
