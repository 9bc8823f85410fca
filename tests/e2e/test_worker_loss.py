"""Workers that die: a pool process killed mid-task, and a whole worker killed with SIGKILL.

The reaper is scheduled by Beat and runs on a worker; it gives a running task whose
heartbeat went silent back to pending (or fails it once attempts run out).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.e2e.api_client import ApiClient, wait_until
from tests.e2e.stack import Stack

RUN_TIMEOUT = 20.0


def test_a_task_whose_pool_process_dies_is_retried_and_completes_on_attempt_two(
    stack: Stack, client: ApiClient
) -> None:
    task = client.submit("crash_once")

    done = client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)

    assert done["attempts"] == 2
    assert done["result"] == "survived"
    assert done["error"] is None
    assert stack.worker is not None
    # Celery itself notices the dead pool process on its 5 s pool-maintenance timer, which
    # may be after the reaper already re-queued the task (stale after 3 s).
    stack.worker.wait_for_log(r"exited with 'signal 9 \(SIGKILL\)'", timeout=8)


def test_a_task_that_kills_its_process_every_time_fails_after_max_attempts(
    client: ApiClient,
) -> None:
    task = client.submit("always_crashes")

    done = client.wait_for_status(task["id"], "failed", timeout=RUN_TIMEOUT)

    # Celery also requeues each lost message: the claim turns those copies into no-ops.
    assert done["attempts"] == done["max_attempts"] == 2
    assert done["error"]["type"] == "WorkerLostError"


def test_a_task_whose_worker_was_killed_is_requeued_by_the_reaper_and_completes_on_a_new_one(
    stack: Stack, client: ApiClient, record_timing: Callable[[str, float], None]
) -> None:
    task = client.submit("cooperative_sleep", seconds=3)
    client.wait_for(
        task["id"],
        lambda t: t["status"] == "running" and t["progress"] > 0,
        timeout=RUN_TIMEOUT,
        what="to run and report progress",
    )
    assert stack.worker is not None

    lost = stack.worker
    lost.kill_group()
    killed = time.monotonic()
    wait_until(
        lambda: not lost.living_group_members(), timeout=2, what="the worker's processes to die"
    )
    # Beat runs the reaper itself; with no worker left, the re-queued task stays pending
    # (and visible) until a new worker comes.
    requeued = client.wait_for(
        task["id"], lambda t: t["status"] != "running", timeout=RUN_TIMEOUT, what="to be reaped"
    )
    requeued_after = time.monotonic() - killed
    stack.start_worker()
    done = client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)
    completed_after = time.monotonic() - killed

    assert requeued["status"] == "pending"
    assert requeued["error"]["type"] == "WorkerLostError"
    assert requeued["attempts"] == 1
    assert done["attempts"] == 2
    assert done["result"] == {"slept": 3}
    record_timing("SIGKILL of the worker -> task re-queued", requeued_after)
    record_timing("SIGKILL of the worker -> task completed on a new worker", completed_after)
    assert completed_after < 20.0
