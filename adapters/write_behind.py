"""The API's DispatchRecorder: `dispatched` flags gathered from every request and written in
one statement per interval, off the request path, by a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from application.ports import DispatchRecorder
from domain.task import TaskId

logger = logging.getLogger(__name__)


class WriteBehindDispatchRecorder(DispatchRecorder):
    """Hands the ids recorded during each `interval` to `inner` in one call.

    A submission answered the client without the flag's transaction (profiled at about a
    tenth of the API's time per POST /tasks); the flag is written within `interval`, far
    inside the relay's grace period. A process that dies before a write leaves those tasks
    to the relay, whose copies the claim discards. Serves one process: start it after any
    fork, and `close()` it on the way out, which writes what is left.
    """

    def __init__(self, inner: DispatchRecorder, *, interval: float) -> None:
        self._inner = inner
        self._interval = interval
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # `inner` serves one thread at a time
        self._pending: list[TaskId] = []
        # One due time for a whole write: the latest recorded, so no task is due earlier
        # than it was told (later only by the interval, which the sweep's bound dwarfs).
        self._due_at: datetime | None = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dispatch-recorder", daemon=True)
            self._thread.start()

    def record(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        if self._thread is None or self._closing.is_set():
            # Not started, or closed: nobody would write them later.
            self._write(task_ids, due_at)
            return
        with self._lock:
            self._pending.extend(task_ids)
            self._due_at = due_at if self._due_at is None else max(self._due_at, due_at)

    def flush(self) -> None:
        with self._lock:
            task_ids, self._pending = self._pending, []
            due_at, self._due_at = self._due_at, None
        if task_ids and due_at is not None:
            self._write(task_ids, due_at)

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()

    def _write(self, task_ids: Sequence[TaskId], due_at: datetime) -> None:
        with self._writing:
            try:
                self._inner.record(task_ids, due_at=due_at)
            except Exception:  # the thread must outlive a bug; the relay covers the flags
                logger.exception("could not record %d dispatched task(s)", len(task_ids))

    def _run(self) -> None:
        while not self._closing.wait(self._interval):
            self.flush()
