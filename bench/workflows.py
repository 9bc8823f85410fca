"""Workflow throughput: a fan-out/fan-in (1 -> N-2 parallel no-ops -> 1) and a chain, each
drained by one worker, beside the same number of independent no-op tasks.

The workflow is stored and its first task published to the staging database, then moved
onto the worker's as for independent tasks; the clock runs until the workflow is completed
in the database. Every release happens in the worker, in the transaction that stores the
outcome of the release's last dependency, and is published from there.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from adapters.sqlalchemy.tables import WorkflowRow
from application.submission import TaskSubmission
from application.use_cases.submit_workflow import WorkflowTaskSubmission
from bench.drain import TASKHUB_QUEUES, wait_idle
from bench.environment import Broker
from bench.stack import TASKHUB_DB, TASKHUB_STAGING_DB
from bench.taskhub_client import TaskhubClient

NOOP = TaskSubmission(name="bench", task_type="noop")
POLL = 0.005


def fan_out_fan_in(n: int) -> list[WorkflowTaskSubmission]:
    """1 -> n-2 in parallel -> 1: 2 * (n - 2) edges."""
    middle = [f"m{i}" for i in range(n - 2)]
    return [
        WorkflowTaskSubmission("first", NOOP),
        *(WorkflowTaskSubmission(key, NOOP, ("first",)) for key in middle),
        WorkflowTaskSubmission("last", NOOP, tuple(middle)),
    ]


def chain(n: int) -> list[WorkflowTaskSubmission]:
    """n steps one after the other: n - 1 edges."""
    return [WorkflowTaskSubmission("s0", NOOP)] + [
        WorkflowTaskSubmission(f"s{i}", NOOP, (f"s{i - 1}",)) for i in range(1, n)
    ]


def edges(tasks: list[WorkflowTaskSubmission]) -> int:
    return sum(len(task.depends_on) for task in tasks)


def workflow_seconds(
    client: TaskhubClient, broker: Broker, tasks: list[WorkflowTaskSubmission]
) -> float:
    """Seconds from the release of the first task's message until the workflow completed."""
    user, _ = client.new_user("workflow")
    view = client.container.core.submit_workflow().execute(user, name="bench", tasks=tasks)
    staged = broker.client(TASKHUB_STAGING_DB)
    wait_idle(broker, TASKHUB_DB, TASKHUB_QUEUES)
    started = time.perf_counter()
    for queue in TASKHUB_QUEUES:
        if staged.exists(queue) and not staged.move(queue, TASKHUB_DB):
            raise RuntimeError(f"could not move {queue} onto db {TASKHUB_DB}")
    statement = select(WorkflowRow.status).where(WorkflowRow.id == view.workflow.id)
    engine = client.container.core.engine()
    deadline = started + 600
    while True:
        with engine.connect() as connection:
            status = connection.scalar(statement)
        if status != "running":
            break
        if time.perf_counter() > deadline:
            raise RuntimeError("the workflow did not finish within 600 s")
        time.sleep(POLL)
    elapsed = time.perf_counter() - started
    if status != "completed":
        raise RuntimeError(f"the benchmark workflow ended {status}")
    return elapsed
