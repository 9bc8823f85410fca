"""Beat's in-process scheduler sleeps until a maintenance job is due instead of waking
early and spinning until it is (Celery's default wakes 10 ms early, then ticks in a tight
loop: most of an idle Beat's CPU with jobs every quarter second)."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from pathlib import Path

from celery import Celery

from entrypoints.worker.beat import InProcessMaintenanceScheduler

INTERVAL = 0.1


def test_an_idle_beat_ticks_about_twice_per_job_run_instead_of_spinning(tmp_path: Path) -> None:
    app = Celery("beat-test", broker="memory://", set_as_current=False)
    runs: list[float] = []

    def job() -> None:
        runs.append(time.monotonic())

    app.task(job, name="taskhub.maintenance.job")
    app.conf.beat_schedule = {
        "job": {"task": "taskhub.maintenance.job", "schedule": timedelta(seconds=INTERVAL)}
    }
    scheduler = InProcessMaintenanceScheduler(
        app, schedule_filename=str(tmp_path / "schedule"), lazy=False
    )
    ticks = 0
    deadline = time.monotonic() + 6 * INTERVAL
    # What celery.beat.Service.start does between two shutdown checks.
    while time.monotonic() < deadline:
        interval = scheduler.tick()
        ticks += 1
        if interval and interval > 0:
            time.sleep(interval)
    scheduler.close()

    assert len(runs) >= 4
    # One tick runs the job, the next finds nothing due and sleeps until it is.
    assert ticks <= 2 * len(runs) + 2, f"{ticks} ticks for {len(runs)} runs"
    gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
    assert min(gaps) >= INTERVAL * 0.9
