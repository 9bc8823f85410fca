"""SQLite's writers take turns through a lock file, so that one waiting for another wakes
within a fraction of a millisecond instead of sleeping in SQLite's busy handler.

SQLite lets one writer at a time hold a database. One that finds it taken is put to sleep
by its busy handler for 1, 2, 5, 10 ms and more before it tries again: a worker's write
lasts a few tenths of a millisecond, and with two pool processes each run slept in that
handler one and a half times on average (strace on a no-op drain), which left the two
cores idle a quarter of the time. Here a connection about to write takes an exclusive
`flock` on `<database>-writers` first, polled at a tenth of a millisecond, and gives it up
as soon as its transaction has committed or rolled back, so writers follow each other
closely; the database's own lock stays the guarantee (a writer that does not take the turn,
a migration or the sqlite3 shell, is still kept out by it).

The threads of one process (the API's, forty of them under load) queue on a lock of the
process first, and only the one at its head polls the file: forty threads polling it woke
eighty thousand times a second, each wake a grab of the GIL taken from the thread that
holds the turn.

A turn is never waited for longer than the busy timeout: past it the writer goes ahead and
SQLite's lock decides, as without turns. A thread that holds the turn through one
connection does not wait for it on another (that would be waiting for itself).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

_TURN = "taskhub_writer_turn"  # the file descriptor, in a pooled connection's info
_HELD = "taskhub_writer_turn_held"  # the process's lock, while the turn is held
FIRST_PAUSE_SECONDS = 0.0001
LONGEST_PAUSE_SECONDS = 0.0005
_READS = ("SELECT", "PRAGMA")


class _Holders(threading.local):
    count = 0  # turns this thread holds, through its connections


_holders = _Holders()


def take_turns_writing(engine: Engine, database_path: str, *, timeout: float) -> None:
    """Make `engine`'s connections take turns before they write to `database_path`."""
    lock_path = f"{database_path}-writers"
    in_process = threading.Lock()  # the head of this process's queue polls the file

    @event.listens_for(engine, "connect")
    def open_turn(_dbapi_connection: Any, record: Any) -> None:
        # One descriptor a connection: flock excludes descriptors, not threads or processes
        # (a pool process opens its own connections after the fork, see the worker app).
        record.info[_TURN] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    @event.listens_for(engine, "close")
    def close_turn(_dbapi_connection: Any, record: Any) -> None:
        descriptor = record.info.pop(_TURN, None)
        if descriptor is not None:
            give_up_turn(record.info)
            os.close(descriptor)

    @event.listens_for(engine, "before_cursor_execute")
    def take_turn_before_writing(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        info = connection.info
        if info.get(_HELD) or statement.lstrip()[:6].upper() in _READS:
            return
        descriptor = info.get(_TURN)
        if (
            descriptor is not None
            and _holders.count == 0
            and _wait_for_turn(descriptor, in_process, timeout)
        ):
            info[_HELD] = in_process
            _holders.count += 1

    @event.listens_for(engine, "checkin")
    def give_up_turn_on_return(_dbapi_connection: Any, record: Any) -> None:
        give_up_turn(record.info)  # a transaction ended without passing through a unit of work


def give_up_turn(info: dict[Any, Any]) -> None:
    """Once the transaction holding it has committed or rolled back; nothing if not held."""
    in_process = info.pop(_HELD, None)
    if in_process is not None:
        fcntl.flock(info[_TURN], fcntl.LOCK_UN)
        in_process.release()
        _holders.count -= 1


def _wait_for_turn(descriptor: int, in_process: threading.Lock, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    if not in_process.acquire(timeout=timeout):
        return False
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                in_process.release()
                return False
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
        else:
            return True
