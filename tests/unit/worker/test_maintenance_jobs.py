"""Beat's maintenance jobs are named by their providers; their task names and schedule are
those Beat and the workers have always used."""

from __future__ import annotations

from datetime import timedelta

from entrypoints.worker.app import MAINTENANCE_JOBS, beat_schedule
from entrypoints.worker_container import WorkerContainer
from tests.unit.http.conftest import make_settings


def test_each_job_keeps_its_task_name_and_runs_at_its_settings_interval() -> None:
    settings = make_settings(
        relay_interval_seconds=3,
        reap_interval_seconds=4,
        purge_interval_seconds=5,
        webhook_sweep_interval_seconds=0.5,
        release_interval_seconds=0.5,
    )
    assert beat_schedule(settings) == {
        "relay_undispatched_tasks": {
            "task": "taskhub.maintenance.relay_undispatched_tasks",
            "schedule": timedelta(seconds=3),
        },
        "republish_overdue_tasks": {
            "task": "taskhub.maintenance.republish_overdue_tasks",
            "schedule": timedelta(seconds=3),
        },
        "release_held_tasks": {
            "task": "taskhub.maintenance.release_held_tasks",
            "schedule": timedelta(seconds=0.5),
        },
        "reap_stale_tasks": {
            "task": "taskhub.maintenance.reap_stale_tasks",
            "schedule": timedelta(seconds=4),
        },
        "purge_expired_tasks": {
            "task": "taskhub.maintenance.purge_expired_tasks",
            "schedule": timedelta(seconds=5),
        },
        "purge_expired_events": {
            "task": "taskhub.maintenance.purge_expired_events",
            "schedule": timedelta(seconds=5),
        },
        "dispatch_due_webhooks": {
            "task": "taskhub.maintenance.dispatch_due_webhooks",
            "schedule": timedelta(seconds=0.5),
        },
    }


def test_a_job_is_run_by_the_use_case_its_provider_builds() -> None:
    core = WorkerContainer().core
    core.settings.override(make_settings())
    built = {job.name: type(getattr(core, job.name)()).__name__ for job in MAINTENANCE_JOBS}
    assert built == {
        "relay_undispatched_tasks": "RelayUndispatchedTasks",
        "republish_overdue_tasks": "RepublishOverdueTasks",
        "release_held_tasks": "ReleaseHeldTasks",
        "reap_stale_tasks": "ReapStaleTasks",
        "purge_expired_tasks": "PurgeExpiredTasks",
        "purge_expired_events": "PurgeExpiredEvents",
        "dispatch_due_webhooks": "DispatchDueWebhooks",
    }
