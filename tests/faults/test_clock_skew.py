"""A worker whose host clock is 30 s behind: its healthy runs are not taken back.

The worker's wall clock runs 30 s slow (time-machine, started by a sitecustomize module in
the worker's interpreter: time.time and datetime.now shifted, the monotonic clock true, as
on a host whose NTP is off), on PostgreSQL, where every process uses the database server's
clock. (libfaketime would shift the whole process, but its clock_nanosleep breaks Python's
time.sleep with EINVAL.) Before, heartbeats were
stamped with the worker's clock and judged with Beat's: every run looked 30 s silent and was
reaped, and after three attempts failed "worker stopped heart-beating". SQLite is not
concerned: its file, and every process using it, live on one host with one clock.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.stack import FaultStack, settled, submit_batch
from tests.support.databases import migrated_database
from tests.support.redis_server import RedisServer

SKEW = "-30"  # seconds: the worker's wall clock is behind the database's
RUN_SECONDS = 6.0  # twice the stale-after of the test stacks (3 s)
TASKS = 4


SITECUSTOMIZE = """
    import datetime, os
    import time_machine
    _offset = datetime.timedelta(seconds=float(os.environ["SKEWED_CLOCK_OFFSET_SECONDS"]))
    time_machine.travel(datetime.datetime.now(datetime.UTC) + _offset, tick=True).start()
"""


def skewed_clock(directory: Path) -> dict[str, str]:
    """The environment that starts an interpreter with its wall clock off by SKEW."""
    site = directory / "skewed-clock"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    return {"PYTHONPATH": f"{site}:{ROOT}", "SKEWED_CLOCK_OFFSET_SECONDS": SKEW}


@pytest.fixture
def stack(redis_server: RedisServer, tmp_path: Path) -> Iterator[FaultStack]:
    with migrated_database("postgresql", tmp_path) as database_url:
        started = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=tmp_path
        )
        try:
            started.start_api()
            started.start_beat()
            started.start_worker(concurrency=2, **skewed_clock(tmp_path))
            yield started
        finally:
            started.stop()


def test_a_worker_with_a_clock_30_s_behind_completes_its_runs_without_being_reaped(
    stack: FaultStack, journal: Journal, figures: RecordFigures
) -> None:
    assert stack.worker is not None
    with stack.client().sign_up() as client:
        started = time.monotonic()
        submitted_at = time.time()
        ids = submit_batch(
            client, "journaled_sleep", TASKS, journal=str(journal.path), seconds=RUN_SECONDS
        )
        tasks = settled(client, ids, timeout=RUN_SECONDS * TASKS + 60)

    # The journal's times are the worker's. Its first run started after the submission, so
    # this is the skew plus that delay: an upper bound of the skew.
    skewed = min(e.at for e in journal.events()) - submitted_at
    completed = [t for t in tasks.values() if t["status"] == "completed"]
    assert stack.beat is not None
    reaped = stack.beat.log_text().count("reaped task")
    figures(
        submitted=TASKS,
        completed=len(completed),
        lost=TASKS - len(completed),
        duplicates=sum(max(c - 1, 0) for c in journal.completions().values()),
        runs_taken_back=reaped,
        worker_clock_offset_seconds=skewed,
        seconds=time.monotonic() - started,
    )
    assert skewed < -25, "the worker's clock was not skewed: the test proves nothing"
    assert len(completed) == TASKS, tasks
    assert {t["attempts"] for t in completed} == {1}
    assert reaped == 0
    assert sum(journal.starts().values()) == TASKS
