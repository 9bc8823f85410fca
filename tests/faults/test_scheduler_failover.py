"""Two scheduler processes on one Redis and one database, the lease holder killed (SIGKILL)
mid-run: the other takes the lease over, fires what came due meanwhile (late, within the
failover window), and no fire time is ever recorded or run twice. The same when Redis loses
its data mid-run (FLUSHALL, as a restart without persistence does): the lease's generation
counter starts again from 1, far below the fences the database holds.

Exactly once rests on the fire ledger's unique (schedule, fire time) and the lease's
fencing token; here both are exercised by real processes racing on PostgreSQL, the way two
Beats or two `taskhub scheduler` processes run in production.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from adapters.redis.lease_lock import PREFIX
from tests.e2e.api_client import ApiClient, wait_until
from tests.e2e.process import ManagedProcess
from tests.faults.conftest import RecordFigures
from tests.faults.stack import SCHEDULER_LEASE_HELD, FaultStack, every_task, start_scheduler
from tests.support.databases import migrated_database
from tests.support.redis_server import RedisServer

LEASE_SECONDS = 2.0
TICK_SECONDS = 0.25
INTERVALS = (1, 1, 2)  # seconds: the three schedules
RUN_SECONDS = 60.0
KILL_AFTER_SECONDS = 20.0
# The longest a fire may wait for the survivor: the dead holder's lease running out, a tick,
# and slack for two busy cores (what the test asserts: failover, not speed).
FAILOVER_WINDOW = timedelta(seconds=LEASE_SECONDS + TICK_SECONDS + 5)
SETTINGS = {
    "TASKHUB_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
    "TASKHUB_SCHEDULER_TICK_SECONDS": str(TICK_SECONDS),
    "TASKHUB_MIN_SCHEDULE_INTERVAL_SECONDS": "1",
}


@pytest.fixture
def stack(redis_server: RedisServer, tmp_path: Path) -> Iterator[FaultStack]:
    """The API and two schedulers; no worker (the runs wait in the queue, which is all the
    test looks at) and no Beat (its own scheduler loop would be a third contender)."""
    with migrated_database("postgresql", tmp_path) as database_url:
        started = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=tmp_path
        )
        try:
            started.start_api(**SETTINGS)
            start_scheduler(started, **SETTINGS)
            start_scheduler(started, **SETTINGS)
            yield started
        finally:
            started.stop()


def schedulers(stack: FaultStack) -> list[ManagedProcess]:
    return [p for p in stack.processes if p.name.startswith("scheduler")]


def generations(process: ManagedProcess) -> list[int]:
    """The lease generations `process` took, in order."""
    return [int(g) for g in re.findall(SCHEDULER_LEASE_HELD, process.log_text())]


def holder(stack: FaultStack) -> ManagedProcess | None:
    """The living scheduler that took the newest lease generation."""
    taken = [(max(generations(p), default=0), p) for p in schedulers(stack) if p.running]
    generation, process = max(taken, key=lambda pair: pair[0])
    return process if generation else None


def create_schedule(client: ApiClient, interval: int, number: int) -> str:
    body = {
        "name": f"failover {number}",
        "task": {"name": f"failover run {number}", "task_type": "noop"},
        "interval_seconds": interval,
        # Every fire makes a run: nothing consumes them, and skip would hide duplicates.
        "overlap": "allow",
    }
    response = client.http.post("/schedules", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def ledger(client: ApiClient, schedule_id: str) -> list[dict[str, Any]]:
    fires: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        response = client.http.get(f"/schedules/{schedule_id}/fires", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        fires.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return fires


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_killing_the_lease_holder_mid_run_loses_no_fire_and_doubles_none(
    stack: FaultStack, figures: RecordFigures
) -> None:
    first = wait_until(lambda: holder(stack), timeout=30, what="a scheduler to take the lease")
    assert first is not None
    with stack.client().sign_up() as client:
        ids = {
            create_schedule(client, interval, n): interval for n, interval in enumerate(INTERVALS)
        }
        time.sleep(KILL_AFTER_SECONDS)
        os.kill(first.pid, signal.SIGKILL)
        killed_at = datetime.now().astimezone()
        wait_until(lambda: not first.running, timeout=10, what="the killed scheduler to be gone")
        survivor = wait_until(
            lambda: holder(stack), timeout=30, what="the other scheduler to take the lease over"
        )
        assert survivor is not None
        time.sleep(RUN_SECONDS - KILL_AFTER_SECONDS)
        for schedule_id in ids:
            paused = client.http.post(f"/schedules/{schedule_id}/pause")
            assert paused.status_code == 200, paused.text
        ended_at = datetime.now().astimezone()
        fires = {schedule_id: ledger(client, schedule_id) for schedule_id in ids}
        runs = [t for t in every_task(client) if t.get("schedule_id")]

    lateness: list[float] = []
    after_kill: list[float] = []
    outcomes: Counter[str] = Counter()
    for schedule_id, interval in ids.items():
        for row in fires[schedule_id]:
            outcomes[row["outcome"]] += 1
            late = (at(row["recorded_at"]) - at(row["fire_time"])).total_seconds()
            lateness.append(late)
            if at(row["fire_time"]) >= killed_at - timedelta(seconds=interval):
                after_kill.append(late)
    per_fire = Counter((t["schedule_id"], at(t["fire_time"])) for t in runs)
    duplicated_runs = sum(count - 1 for count in per_fire.values())
    figures(
        schedules=len(ids),
        fires=sum(outcomes.values()),
        fired=outcomes["fired"],
        missed=outcomes["missed"],
        skipped=outcomes["skipped"],
        runs=len(runs),
        duplicates=duplicated_runs,
        failover_lateness_seconds=max(after_kill, default=0.0),
        max_lateness_seconds=max(lateness, default=0.0),
        generations=f"{generations(first)} then {generations(survivor)}",
    )

    assert survivor is not first
    assert max(generations(survivor)) > max(generations(first))
    assert duplicated_runs == 0
    assert outcomes == Counter(fired=len(runs)), outcomes
    assert {schedule_id for schedule_id, _ in per_fire} == set(ids)
    for schedule_id, interval in ids.items():
        rows = fires[schedule_id]
        times = sorted(at(row["fire_time"]) for row in rows)
        assert all(n == 1 for n in Counter(times).values()), Counter(times).most_common(3)
        # No gap: one fire time every `interval` from the first to the last ...
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert gaps
        assert all(gap == interval for gap in gaps), gaps
        # ... up to the end of the run (the survivor went on firing) ...
        assert ended_at - times[-1] <= FAILOVER_WINDOW, (times[-1], ended_at)
        # ... and none waited longer than the failover window.
        for row in rows:
            assert at(row["recorded_at"]) - at(row["fire_time"]) <= FAILOVER_WINDOW, row


# The scheduler lease's generation counter, and a history of as many leases before this run
# (a long-lived deployment): the fences stored in the database are that high.
GENERATION_KEY = PREFIX + "scheduler:generation"
HISTORY = 1000
FLUSH_AFTER_SECONDS = 15.0
FLUSHED_RUN_SECONDS = 40.0


def test_redis_losing_its_data_mid_run_loses_no_fire_and_doubles_none(
    stack: FaultStack, redis_server: RedisServer, figures: RecordFigures
) -> None:
    first = wait_until(lambda: holder(stack), timeout=30, what="a scheduler to take the lease")
    assert first is not None
    broker = redis.Redis.from_url(redis_server.url)
    with stack.client().sign_up() as client:
        ids = {
            create_schedule(client, interval, n): interval for n, interval in enumerate(INTERVALS)
        }
        # A long history: the next lease is generation HISTORY + 1, and fires under it.
        broker.set(GENERATION_KEY, HISTORY)
        broker.delete(PREFIX + "scheduler")
        wait_until(
            lambda: any(max(generations(p), default=0) > HISTORY for p in schedulers(stack)),
            timeout=30,
            what="a lease taken after the history",
        )
        time.sleep(FLUSH_AFTER_SECONDS)
        seen_before = {p.name: len(generations(p)) for p in schedulers(stack)}
        broker.flushall()
        flushed_at = datetime.now().astimezone()
        time.sleep(FLUSHED_RUN_SECONDS - FLUSH_AFTER_SECONDS)
        for schedule_id in ids:
            paused = client.http.post(f"/schedules/{schedule_id}/pause")
            assert paused.status_code == 200, paused.text
        ended_at = datetime.now().astimezone()
        fires = {schedule_id: ledger(client, schedule_id) for schedule_id in ids}
        runs = [t for t in every_task(client) if t.get("schedule_id")]
    broker.close()

    outcomes: Counter[str] = Counter()
    after_flush: list[float] = []
    for schedule_id in ids:
        for row in fires[schedule_id]:
            outcomes[row["outcome"]] += 1
            if at(row["fire_time"]) >= flushed_at:
                after_flush.append((at(row["recorded_at"]) - at(row["fire_time"])).total_seconds())
    per_fire = Counter((t["schedule_id"], at(t["fire_time"])) for t in runs)
    duplicated_runs = sum(count - 1 for count in per_fire.values())
    taken_after = sorted(
        g for p in schedulers(stack) for g in generations(p)[seen_before[p.name] :]
    )
    figures(
        schedules=len(ids),
        fires=sum(outcomes.values()),
        fired=outcomes["fired"],
        missed=outcomes["missed"],
        skipped=outcomes["skipped"],
        runs=len(runs),
        duplicates=duplicated_runs,
        fires_after_flush=len(after_flush),
        max_lateness_after_flush_seconds=max(after_flush, default=0.0),
        generations_after_flush=str(taken_after),
    )

    assert taken_after  # a lease was taken again after the flush ...
    assert min(taken_after) <= HISTORY  # ... its counter started again
    assert duplicated_runs == 0
    assert outcomes == Counter(fired=len(runs)), outcomes
    for schedule_id, interval in ids.items():
        times = sorted(at(row["fire_time"]) for row in fires[schedule_id])
        assert all(n == 1 for n in Counter(times).values()), Counter(times).most_common(3)
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert gaps
        assert all(gap == interval for gap in gaps), gaps
        assert ended_at - times[-1] <= FAILOVER_WINDOW, (times[-1], ended_at)
    assert after_flush
    assert max(after_flush) <= FAILOVER_WINDOW.total_seconds(), after_flush
