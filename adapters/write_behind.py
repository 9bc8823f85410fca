"""The API's DispatchRecorder: `dispatched` flags gathered from every request and written in
one statement per interval, off the request path, by a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

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
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dispatch-recorder", daemon=True)
            self._thread.start()

    def record(self, task_ids: Sequence[TaskId]) -> None:
        if self._thread is None or self._closing.is_set():
            self._write(task_ids)  # not started, or closed: nobody would write them later
            return
        with self._lock:
            self._pending.extend(task_ids)

    def flush(self) -> None:
        with self._lock:
            task_ids, self._pending = self._pending, []
        if task_ids:
            self._write(task_ids)

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()

    def _write(self, task_ids: Sequence[TaskId]) -> None:
        with self._writing:
            try:
                self._inner.record(task_ids)
            except Exception:  # the thread must outlive a bug; the relay covers the flags
                logger.exception("could not record %d dispatched task(s)", len(task_ids))

    def _run(self) -> None:
        while not self._closing.wait(self._interval):
            self.flush()
