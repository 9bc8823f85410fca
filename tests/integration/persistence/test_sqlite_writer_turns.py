"""SQLite's writers take turns through a lock file: a writer waits for the one holding the
turn and goes as soon as it commits, a turn dies with its process (kill -9), and a turn
that is never given up delays a writer by the timeout, not forever. A unit of work that
locks for writing (the reaper's proof that writers can go) holds the database's own lock."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, text

from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.migrate import upgrade_database
from adapters.sqlalchemy.sqlite_writers import take_turns_writing
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.factories import make_user

HOLD_SECONDS = 0.5


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    upgrade_database(url)
    return url


def add_user(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
        uow.users.add(make_user(email=f"{uuid4().hex}@example.com"))
        uow.commit()


def hold_a_write_in_a_child(url: str, *, then: str) -> tuple[int, int]:
    """A forked process that writes, signals it holds the turn, then commits after
    HOLD_SECONDS (`then="commit"`) or is killed with SIGKILL holding it (`then="die"`)."""
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        engine = create_database_engine(url)
        with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
            uow.users.add(make_user(email=f"{uuid4().hex}@example.com"))
            os.write(ready_write, b"x")
            if then == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(HOLD_SECONDS)
            uow.commit()
        os._exit(0)
    os.read(ready_read, 1)
    return child, ready_read


def test_a_writer_waits_for_the_turn_of_another_process_and_goes_once_it_commits(
    database: str,
) -> None:
    child, _ = hold_a_write_in_a_child(database, then="commit")
    engine = create_database_engine(database)
    started = time.monotonic()

    add_user(engine)
    waited = time.monotonic() - started
    os.waitpid(child, 0)

    # It waited for the child's commit (not failed with "database is locked"), and did not
    # sleep on long after it in SQLite's busy handler.
    assert HOLD_SECONDS * 0.8 <= waited < HOLD_SECONDS + 1.0, waited
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM users")) == 2
    engine.dispose()


def test_locking_for_writing_waits_for_a_writer_outside_the_turns_and_then_holds_the_lock(
    database: str,
) -> None:
    path = database.removeprefix("sqlite:///")
    engine = create_database_engine(database)
    add_user(engine)  # the file is in WAL mode by now, as a running system's is
    # A writer that does not take the turns, as the sqlite3 shell.
    outsider = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    outsider.execute("BEGIN IMMEDIATE")
    threading.Timer(HOLD_SECONDS, lambda: outsider.execute("ROLLBACK")).start()
    started = time.monotonic()

    with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
        uow.lock_for_writing()
        waited = time.monotonic() - started
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            outsider.execute("BEGIN IMMEDIATE")
    outsider.execute("BEGIN IMMEDIATE")  # given up with the unit of work
    outsider.execute("ROLLBACK")

    assert HOLD_SECONDS * 0.8 <= waited < HOLD_SECONDS + 1.0, waited
    outsider.close()
    engine.dispose()


def test_a_turn_held_by_a_process_killed_with_sigkill_is_free_at_once(database: str) -> None:
    child, _ = hold_a_write_in_a_child(database, then="die")
    os.waitpid(child, 0)
    engine = create_database_engine(database)
    started = time.monotonic()

    add_user(engine)

    assert time.monotonic() - started < 1.0
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM users")) == 1  # the child's: gone
    engine.dispose()


def test_a_turn_never_given_up_delays_a_writer_by_the_timeout_then_it_goes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plain.db"
    engine = create_engine(f"sqlite:///{path}")
    take_turns_writing(engine, str(path), timeout=0.3)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    stuck = os.open(f"{path}-writers", os.O_RDWR)
    fcntl.flock(stuck, fcntl.LOCK_EX)  # a holder that never writes nor lets go
    started = time.monotonic()

    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    waited = time.monotonic() - started

    assert 0.3 <= waited < 1.3, waited  # the timeout, then SQLite's own lock decided
    os.close(stuck)
    engine.dispose()


def test_a_thread_holding_the_turn_does_not_wait_for_it_on_a_second_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    take_turns_writing(engine, str(path), timeout=30)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    started = time.monotonic()

    with engine.connect() as outer, engine.connect() as inner:
        outer.execute(text("INSERT INTO t VALUES (1)"))  # holds the turn and the database
        with pytest.raises(Exception, match="locked"):
            inner.execute(text("INSERT INTO t VALUES (2)"))
        outer.commit()

    # SQLite refused the second writer after its own busy timeout (0.2 s); had the thread
    # waited for its own turn, this would have taken the turn's 30 s.
    assert time.monotonic() - started < 5
    engine.dispose()


def test_threads_of_one_process_queue_for_the_turn_and_only_one_polls_the_file(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    child, _ = hold_a_write_in_a_child(database, then="commit")
    engine = create_database_engine(database)
    polling: set[int] = set()
    real_flock = fcntl.flock

    def recording_flock(descriptor: int, operation: int) -> None:
        if operation & fcntl.LOCK_NB:
            polling.add(threading.get_ident())
        real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", recording_flock)
    writers = [threading.Thread(target=add_user, args=(engine,)) for _ in range(8)]
    for writer in writers:
        writer.start()
    time.sleep(HOLD_SECONDS / 2)  # all eight wait while the child holds the turn
    polling_while_held = len(polling)
    for writer in writers:
        writer.join()
    os.waitpid(child, 0)

    assert polling_while_held == 1  # the head of the queue; seven wait on its lock
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM users")) == 1 + 8
    engine.dispose()
