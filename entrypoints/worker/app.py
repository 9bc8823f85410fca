"""The worker's Celery app: one Celery task per task type, the maintenance jobs, Beat's schedule."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import Celery
from celery.exceptions import Reject
from celery.signals import beat_init, setup_logging, worker_process_init

from application.errors import DependencyUnavailableError
from domain.task import TaskId
from entrypoints.container import Container, task_name
from entrypoints.logs import configure_logging, request_id_var, task_id_var
from entrypoints.tracing import start_tracing, trace_worker
from entrypoints.worker.beat import InProcessMaintenanceScheduler
from entrypoints.worker.celery_states import EXPECTED_ERRORS, report_to_celery
from entrypoints.worker.metrics import serve_worker_metrics
from entrypoints.worker.scheduler import SchedulerLoop
from entrypoints.worker.time_limits import fail_runs_stopped_at_their_time_limit

logger = logging.getLogger(__name__)

MAINTENANCE_JOBS = (
    "relay_undispatched_tasks",
    "republish_overdue_tasks",
    "reap_stale_tasks",
    "purge_expired_tasks",
    "purge_expired_events",
)


def create_worker_app(container: Container) -> Celery:
    """The Celery app a worker or Beat process runs; builds nothing that connects yet."""
    app: Celery = container.celery_app()
    registry = container.task_type_catalog()
    for task_type in registry.task_types():
        _register_task_type(
            app, container, task_type.name, task_type.soft_time_limit, task_type.time_limit
        )
    for job in MAINTENANCE_JOBS:
        _register_maintenance_job(app, container, job)
    app.conf.beat_schedule = beat_schedule(container)
    app.conf.beat_scheduler = "entrypoints.worker.beat:InProcessMaintenanceScheduler"
    _lease_maintenance_and_run_the_scheduler_in_beat(container)
    _reset_connections_after_fork(container)
    _trace_runs_when_asked(app, container)
    fail_runs_stopped_at_their_time_limit(container.fail_overrun_task)
    _use_taskhub_logging(container)
    serve_worker_metrics(
        port=container.settings().worker_metrics_port,
        address=container.settings().worker_metrics_address,
        backlog=container.backlog_collector,
    )
    return app


def _register_task_type(
    app: Celery,
    container: Container,
    name: str,
    soft_time_limit: float | None,
    time_limit: float | None,
) -> None:
    def run(task_id: str) -> str:
        task_token = task_id_var.set(task_id)
        request_token = request_id_var.set(None)  # the run's own is set once it is claimed
        try:
            outcome = container.run_task().execute(TaskId(UUID(task_id)))
        except DependencyUnavailableError as exc:
            # The claim could not be made: nothing ran. Back to the broker, not acked, or
            # the task would wait for the overdue sweep.
            logger.warning("task %s not claimed (%s); back to the queue", task_id, exc)
            raise Reject(str(exc), requeue=True) from exc
        finally:
            request_id_var.reset(request_token)
            task_id_var.reset(task_token)
        # The outcome is stored by now; Celery is only told it, for its events (Flower).
        return report_to_celery(outcome)

    app.task(
        run,
        name=task_name(name),
        acks_late=True,
        reject_on_worker_lost=True,
        throws=EXPECTED_ERRORS,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        ignore_result=True,
    )


def _register_maintenance_job(app: Celery, container: Container, job: str) -> None:
    def run() -> Any:
        try:
            result = getattr(container, job)().execute()
        except DependencyUnavailableError as exc:
            # An outage, not a bug: one line per run, no traceback; the next tick tries again.
            logger.warning("%s skipped: %s", job, exc)
            return None
        count = len(result) if isinstance(result, list) else result
        if count:
            logger.info("%s: %s task(s)", job, count)
        return count

    app.task(
        run,
        name=task_name(f"maintenance.{job}"),
        ignore_result=True,
        # Runs again on the next tick anyway: no point redelivering a lost one.
        acks_late=False,
    )


def beat_schedule(container: Container) -> dict[str, dict[str, Any]]:
    """The maintenance jobs and how often they run, in Beat's own process (see beat.py)."""
    settings = container.settings()
    every = {
        "relay_undispatched_tasks": settings.relay_interval_seconds,
        "republish_overdue_tasks": settings.relay_interval_seconds,
        "reap_stale_tasks": settings.reap_interval_seconds,
        "purge_expired_tasks": settings.purge_interval_seconds,
        "purge_expired_events": settings.purge_interval_seconds,
    }
    return {
        job: {"task": task_name(f"maintenance.{job}"), "schedule": timedelta(seconds=seconds)}
        for job, seconds in every.items()
    }


def _reset_connections_after_fork(container: Container) -> None:
    @worker_process_init.connect(weak=False)
    def fresh_database_pool(**_: Any) -> None:
        # A pool inherited through fork shares sockets with the parent: start from scratch.
        container.engine().dispose(close=False)


def _trace_runs_when_asked(app: Celery, container: Container) -> None:
    exporter = container.settings().otel_exporter
    if exporter in (None, "none"):
        return  # not even a signal handler: a run costs nothing more with tracing off

    @worker_process_init.connect(weak=False)
    def start_in_pool_process(**_: Any) -> None:
        # In each pool process, after the fork: an exporter's thread and connections do not
        # survive one, and the runs happen here.
        if start_tracing(exporter, service_name="taskhub-worker"):
            trace_worker(app, container.engine())


def _use_taskhub_logging(container: Container) -> None:
    settings = container.settings()

    @setup_logging.connect(weak=False)
    def configure(**_: Any) -> None:
        # Connecting here stops Celery from installing its own handlers: worker, Beat and
        # Flower log like the API, with the request and task ids in every line.
        configure_logging(level=settings.log_level, json_lines=settings.json_logs)
        # Celery's "Task ... succeeded" line repeats the runner's outcome line, without the
        # request id; formatting it was a twentieth of a no-op task's run (profiled).
        logging.getLogger("celery.app.trace").setLevel(max(logging.WARNING, logging.root.level))


def scheduler_loop(container: Container) -> SchedulerLoop:
    return SchedulerLoop(
        lease=container.scheduler_lease(),
        release_due_tasks=container.release_due_tasks,
        fire_due_schedules=container.fire_due_schedules,
        tick_seconds=container.settings().scheduler_tick_seconds,
    )


def _lease_maintenance_and_run_the_scheduler_in_beat(container: Container) -> None:
    def holds_lease() -> bool:
        try:
            return container.maintenance_lease().hold() is not None
        except DependencyUnavailableError as exc:
            logger.warning("maintenance jobs skipped: %s", exc)
            return False

    InProcessMaintenanceScheduler.holds_lease = staticmethod(holds_lease)

    @beat_init.connect(weak=False)
    def start_scheduler(**_: Any) -> None:
        scheduler_loop(container).start_in_background()
