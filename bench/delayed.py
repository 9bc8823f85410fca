"""Delayed tasks' lateness: `due` tasks due at the same second among `stored` delayed tasks
waiting further ahead, released by a `taskhub scheduler` process; lateness is the time each
was published (its `due_at`, stamped at publish) minus its `run_at`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from adapters.sqlalchemy.tables import TaskRow
from application.submission import TaskSubmission
from bench.stack import Systems
from bench.taskhub_client import BATCH, TaskhubClient
from domain.task import TaskId

# Time to store the tasks due together before their second comes (two busy cores).
LEAD_SECONDS = 15.0
POLL_SECONDS = 0.1


def store_waiting(client: TaskhubClient, stored: int) -> None:
    """`stored` delayed tasks due in a week: what the scheduler's query has to look past."""
    user, _ = client.new_user("waiting")
    submit = client.container.core.submit_task_batch()
    later = datetime.now(UTC) + timedelta(days=7)
    for start in range(0, stored, BATCH):
        size = min(BATCH, stored - start)
        submit.execute(user, [TaskSubmission(name="later", task_type="noop", run_at=later)] * size)


def lateness_ms(client: TaskhubClient, systems: Systems, *, due: int) -> list[float]:
    """Milliseconds late, one per task of `due` due at the same second."""
    user, _ = client.new_user("delayed")
    submit = client.container.core.submit_task_batch()
    scheduler = systems.start_taskhub_scheduler()
    try:
        run_at = (datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)
        ids: list[TaskId] = []
        for start in range(0, due, BATCH):
            size = min(BATCH, due - start)
            batch = [TaskSubmission(name="due", task_type="noop", run_at=run_at)] * size
            ids += [task.id for task in submit.execute(user, batch)]
        if datetime.now(UTC) >= run_at:
            raise RuntimeError(f"storing {due} tasks took longer than {LEAD_SECONDS} s")
        published = _wait_published(client, ids, deadline=run_at + timedelta(seconds=120))
    finally:
        systems.processes.stop(scheduler)
    return [(_utc(at) - run_at).total_seconds() * 1000 for at in published]


def _wait_published(
    client: TaskhubClient, ids: list[TaskId], *, deadline: datetime
) -> list[datetime]:
    statement = select(func.count()).where(TaskRow.id.in_(ids), TaskRow.dispatched)
    engine = client.container.core.engine()
    while True:
        with engine.connect() as connection:
            if int(connection.scalar(statement) or 0) == len(ids):
                break
        if datetime.now(UTC) > deadline:
            raise RuntimeError("the delayed tasks were not all published in time")
        time.sleep(POLL_SECONDS)
    with engine.connect() as connection:
        return list(connection.scalars(select(TaskRow.due_at).where(TaskRow.id.in_(ids))))


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; taskhub stores UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)
