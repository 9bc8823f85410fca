"""The backup drill, with real processes on SQLite and Redis: a load runs, a backup is taken
mid-way while it goes on, the load goes on after it, then the database is restored and the
system started again. Every task completed before the backup began is there, completed, having
run exactly once; the tasks in flight at the backup are run to completion; the tasks created
after the backup are gone, and the worker logs and drops their messages instead of failing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api_client import ApiClient, wait_until
from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import ROOT, Stack
from tests.support.databases import migrated_database


@pytest.fixture
def stores(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        yield database_url, broker_url


def taskhub(stack: Stack, *arguments: str) -> str:
    """A `taskhub` command with the stack's settings, as an operator runs it beside it."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "entrypoints.cli", *arguments],
        env=stack.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def submit(client: ApiClient, count: int, task_type: str, **kwargs: object) -> list[str]:
    return [client.submit(task_type, **kwargs)["id"] for _ in range(count)]


def all_completed(client: ApiClient, ids: list[str]) -> list[dict[str, object]] | None:
    tasks = [client.task(task_id) for task_id in ids]
    return tasks if all(t["status"] == "completed" for t in tasks) else None


def test_a_restore_keeps_every_task_completed_before_the_backup_exactly_once(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    database_url, broker_url = stores
    backup = tmp_path / "drill.backup"
    before = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path / "a")
    (tmp_path / "a").mkdir()
    try:
        before.start()
        client = before.client().sign_up()
        acknowledged = submit(client, 20, "noop")
        finished = wait_until(
            lambda: all_completed(client, acknowledged), timeout=60, what="the first load"
        )
        in_flight = submit(client, 12, "countdown", seconds=0.4, steps=2)
        taskhub(before, "backup", "create", str(backup))  # while the load runs
        later = submit(client, 6, "noop")
        wait_until(lambda: all_completed(client, in_flight + later), timeout=90, what="the rest")
        assert before.worker is not None
        before.worker.stop()
        orphaned = submit(client, 4, "noop")  # queued in the broker, no worker to take them
        token = client.http.headers["Authorization"]
    finally:
        before.stop()

    restored = taskhub(before, "backup", "restore", "--yes", str(backup))

    after = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path / "b")
    (tmp_path / "b").mkdir()
    try:
        after.start()
        client = after.client()
        client.http.headers["Authorization"] = token  # the user signed up before the backup
        rerun = wait_until(
            lambda: all_completed(client, in_flight), timeout=90, what="the in-flight tasks"
        )
        assert after.worker is not None
        worker = after.worker
        for task_id in orphaned:
            worker.wait_for_log(f"task {task_id} not started: task {task_id} not found", timeout=30)
        again = [client.task(task_id) for task_id in acknowledged]
        runs = [client.http.get(f"/tasks/{task_id}/attempts").json() for task_id in acknowledged]
        gone = [client.http.get(f"/tasks/{task_id}").status_code for task_id in later + orphaned]
        worker_alive = worker.running  # a message without its task is logged, not fatal
    finally:
        after.stop()

    assert "handed to the relay" in restored
    # Completed before the backup: the same single run, not run again after the restore.
    assert again == finished
    assert all(len(attempts["items"]) == 1 for attempts in runs)
    assert all(t["status"] == "completed" for t in rerun)
    assert gone == [404] * len(later + orphaned)
    assert worker_alive
