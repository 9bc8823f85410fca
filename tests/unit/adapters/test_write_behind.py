"""The API's write-behind DispatchRecorder: batches, writes on close, survives a failing write."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.write_behind import WriteBehindDispatchRecorder
from domain.task import TaskId


class Recorded:
    """An inner recorder noting each call, from whichever thread made it."""

    def __init__(self, *, failures: int = 0) -> None:
        self.calls: list[list[TaskId]] = []
        self.threads: set[str] = set()
        self.failures = failures
        self.written = threading.Event()

    def record(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        self.threads.add(threading.current_thread().name)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database said no")
        self.calls.append(list(task_ids))
        self.written.set()


DUE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def ids(n: int) -> list[TaskId]:
    return [TaskId(uuid4()) for _ in range(n)]


def test_ids_recorded_within_an_interval_are_written_in_one_call_off_the_callers_thread() -> None:
    inner = Recorded()
    recorder = WriteBehindDispatchRecorder(inner, interval=0.2)
    recorder.start()
    first, second = ids(1), ids(2)

    recorder.record(first, due_at=DUE)
    recorder.record(second, due_at=DUE)
    assert inner.calls == []  # nothing written on the request's path
    assert inner.written.wait(5)
    recorder.close()

    assert inner.calls == [first + second]
    assert inner.threads == {"dispatch-recorder"}


def test_close_writes_what_is_still_gathered() -> None:
    inner = Recorded()
    recorder = WriteBehindDispatchRecorder(inner, interval=60)
    recorder.start()
    gathered = ids(3)
    recorder.record(gathered, due_at=DUE)

    recorder.close()

    assert inner.calls == [gathered]


@pytest.mark.parametrize("started", [False, True], ids=["before start", "after close"])
def test_without_a_running_thread_ids_are_written_at_once(started: bool) -> None:
    inner = Recorded()
    recorder = WriteBehindDispatchRecorder(inner, interval=60)
    if started:
        recorder.start()
        recorder.close()
    now = ids(1)

    recorder.record(now, due_at=DUE)

    assert inner.calls == [now]


def test_a_failing_write_is_logged_and_the_next_interval_writes_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Recorded(failures=1)
    recorder = WriteBehindDispatchRecorder(inner, interval=0.05)
    recorder.start()
    lost, later = ids(1), ids(1)
    recorder.record(lost, due_at=DUE)
    deadline = time.monotonic() + 5
    while "could not record" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)

    recorder.record(later, due_at=DUE)
    assert inner.written.wait(5)
    recorder.close()

    assert "could not record 1 dispatched task(s)" in caplog.text
    assert inner.calls == [later]  # the lost flag is the relay's to cover
