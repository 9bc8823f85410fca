"""The Celery apps: a worker's (one Celery task per task type, and the maintenance jobs) and
Beat's (the maintenance jobs and their schedule)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from celery import Celery
from celery.exceptions import Reject
from celery.signals import beat_init, setup_logging, worker_init, worker_process_init

from application.errors import DependencyUnavailableError
from domain.task import TaskId
from domain.webhook import WebhookDeliveryId
from entrypoints.beat_container import BeatContainer
from entrypoints.container import (
    WEBHOOK_TASK,
    CoreContainer,
    Settings,
    provider_name,
    task_name,
)
from entrypoints.garbage_collection import set_startup_aside
from entrypoints.logs import configure_logging, request_id_var, task_id_var
from entrypoints.tracing import start_tracing, trace_worker
from entrypoints.worker.beat import InProcessMaintenanceScheduler
from entrypoints.worker.celery_states import EXPECTED_ERRORS, report_to_celery
from entrypoints.worker.metrics import serve_worker_metrics
from entrypoints.worker.time_limits import fail_runs_stopped_at_their_time_limit
from entrypoints.worker_container import WorkerContainer

logger = logging.getLogger(__name__)


class MaintenanceUseCase(Protocol):
    def execute(self) -> object: ...


@dataclass(frozen=True)
class MaintenanceJob:
    """A use case Beat runs on a schedule, named by its provider (which mypy checks)."""

    use_case: Callable[[], MaintenanceUseCase]
    every: Callable[[Settings], float]

    @property
    def name(self) -> str:
        # The provider's name is the job's: its Celery task and Beat entry keep that name.
        return provider_name(self.use_case)


MAINTENANCE_JOBS = (
    MaintenanceJob(CoreContainer.relay_undispatched_tasks, lambda s: s.relay_interval_seconds),
    MaintenanceJob(CoreContainer.republish_overdue_tasks, lambda s: s.relay_interval_seconds),
    MaintenanceJob(CoreContainer.release_held_tasks, lambda s: s.release_interval_seconds),
    MaintenanceJob(CoreContainer.reap_stale_tasks, lambda s: s.reap_interval_seconds),
    MaintenanceJob(CoreContainer.purge_expired_tasks, lambda s: s.purge_interval_seconds),
    MaintenanceJob(CoreContainer.purge_expired_events, lambda s: s.purge_interval_seconds),
    MaintenanceJob(CoreContainer.dispatch_due_webhooks, lambda s: s.webhook_sweep_interval_seconds),
)


def create_worker_app(container: WorkerContainer) -> Celery:
    """The Celery app a worker (or Flower) runs; builds nothing that connects yet."""
    core = container.core
    app: Celery = core.celery_app()
    registry = core.task_type_catalog()
    for task_type in registry.task_types():
        _register_task_type(
            app, container, task_type.name, task_type.soft_time_limit, task_type.time_limit
        )
    _register_webhook_delivery(app, core)
    # Beat runs these itself (beat.py); a worker still answers one queued by an older Beat.
    for job in MAINTENANCE_JOBS:
        _register_maintenance_job(app, core, job)
    _reset_connections_after_fork(core)
    _trace_runs_when_asked(app, core)
    _set_startup_aside_in_every_process()
    fail_runs_stopped_at_their_time_limit(core.fail_overrun_task)
    _use_taskhub_logging(core)
    serve_worker_metrics(
        port=core.settings().worker_metrics_port,
        address=core.settings().worker_metrics_address,
        backlog=container.backlog_collector,
    )
    return app


# The names `celery worker --loglevel` takes; `taskhub worker` refuses any other.
LOG_LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL")


@dataclass(frozen=True)
class WorkerOptions:
    """What `taskhub worker` sets of Celery's worker; the rest is Celery's default."""

    queues: list[str]
    concurrency: int
    hostname: str  # %h, %n and %d are expanded, as Celery's command line does
    loglevel: str = "INFO"
    max_tasks_per_child: int | None = None  # None: a pool process is never replaced
    max_memory_per_child_kb: int | None = None
    task_events: bool = False


def run_worker(app: Celery, options: WorkerOptions) -> int:
    """Run a prefork worker until it is stopped; its exit code.

    What `celery worker` does with these options, without going through Celery's command
    line: that loads every celery subcommand, among them the interactive shell's
    prompt_toolkit and Flower's plugin with tornado, about 12 MB the worker's main process
    and each pool process (forked from it) would hold for nothing."""
    from celery import concurrency
    from celery.platforms import maybe_drop_privileges
    from celery.utils.log import mlevel
    from celery.utils.nodenames import default_nodename, host_format

    maybe_drop_privileges()
    worker = app.Worker(
        hostname=host_format(default_nodename(options.hostname)),
        pool=concurrency.get_implementation(app.conf.worker_pool),
        loglevel=mlevel(options.loglevel.upper()),
        logfile=None,
        pidfile=None,
        statedb=None,
        no_color=False,
        quiet=False,
        queues=options.queues,
        concurrency=options.concurrency,
        prefetch_multiplier=1,
        max_tasks_per_child=options.max_tasks_per_child,
        max_memory_per_child=options.max_memory_per_child_kb,
        task_events=options.task_events or None,
        # Workers agree through the database, not by swapping revoked ids at start-up.
        without_mingle=True,
        optimization="default",
    )
    worker.start()
    return int(worker.exitcode or 0)


def create_beat_app(container: BeatContainer) -> Celery:
    """The Celery app Beat runs: the maintenance jobs, run in its own process on their
    schedule (beat.py); builds nothing that connects yet."""
    core = container.core
    app: Celery = core.celery_app()
    for job in MAINTENANCE_JOBS:
        _register_maintenance_job(app, core, job)
    app.conf.beat_schedule = beat_schedule(core.settings())
    app.conf.beat_scheduler = "entrypoints.worker.beat:InProcessMaintenanceScheduler"
    _lease_maintenance_and_run_the_scheduler(container)
    _use_taskhub_logging(core)
    return app


def _register_task_type(
    app: Celery,
    container: WorkerContainer,
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


def _register_webhook_delivery(app: Celery, core: Any) -> None:
    def deliver(delivery_id: str) -> str | None:
        try:
            delivery = core.deliver_webhook().execute(WebhookDeliveryId(UUID(delivery_id)))
        except DependencyUnavailableError as exc:
            # Its claim lapses and the sweep queues it again: nothing is lost.
            logger.warning("webhook delivery %s not attempted: %s", delivery_id, exc)
            return None
        return delivery.status.value if delivery is not None else None

    app.task(
        deliver,
        name=task_name(WEBHOOK_TASK),
        ignore_result=True,
        # The delivery's claim, not the broker, brings back a lost attempt.
        acks_late=False,
    )


def _register_maintenance_job(app: Celery, core: Any, job: MaintenanceJob) -> None:
    name = job.name
    use_case = getattr(core, name)  # this process's provider of the same name

    def run() -> Any:
        try:
            result = use_case().execute()
        except DependencyUnavailableError as exc:
            # An outage, not a bug: one line per run, no traceback; the next tick tries again.
            logger.warning("%s skipped: %s", name, exc)
            return None
        count = len(result) if isinstance(result, list) else result
        if count:
            logger.info("%s: %s task(s)", name, count)
        return count

    app.task(
        run,
        name=task_name(f"maintenance.{name}"),
        ignore_result=True,
        # Runs again on the next tick anyway: no point redelivering a lost one.
        acks_late=False,
    )


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The maintenance jobs and how often they run, in Beat's own process (see beat.py)."""
    return {
        job.name: {
            "task": task_name(f"maintenance.{job.name}"),
            "schedule": timedelta(seconds=job.every(settings)),
        }
        for job in MAINTENANCE_JOBS
    }


def _reset_connections_after_fork(core: Any) -> None:
    @worker_process_init.connect(weak=False)
    def fresh_database_pool(**_: Any) -> None:
        # A pool inherited through fork shares sockets with the parent: start from scratch.
        core.engine().dispose(close=False)


def _set_startup_aside_in_every_process() -> None:
    @worker_init.connect(weak=False)
    def before_the_pool_forks(**_: Any) -> None:
        set_startup_aside()

    # Connected last, so it runs after the other handlers' setup of the pool process.
    @worker_process_init.connect(weak=False)
    def in_each_pool_process(**_: Any) -> None:
        set_startup_aside()


def _trace_runs_when_asked(app: Celery, core: Any) -> None:
    exporter = core.settings().otel_exporter
    if exporter in (None, "none"):
        return  # not even a signal handler: a run costs nothing more with tracing off

    @worker_process_init.connect(weak=False)
    def start_in_pool_process(**_: Any) -> None:
        # In each pool process, after the fork: an exporter's thread and connections do not
        # survive one, and the runs happen here.
        if start_tracing(exporter, service_name="taskhub-worker"):
            trace_worker(app, core.engine())


def _use_taskhub_logging(core: Any) -> None:
    settings = core.settings()

    @setup_logging.connect(weak=False)
    def configure(**_: Any) -> None:
        # Connecting here stops Celery from installing its own handlers: worker, Beat and
        # Flower log like the API, with the request and task ids in every line.
        configure_logging(level=settings.log_level, json_lines=settings.json_logs)
        # Celery's "Task ... succeeded" line repeats the runner's outcome line, without the
        # request id; formatting it was a twentieth of a no-op task's run (profiled).
        # Its "Task ... received" line, one a delivery in the main process, was a twentieth
        # of that process's time per task; the run's own lines and events say more. At
        # DEBUG, asked for every line, both stay.
        if logging.root.level > logging.DEBUG:
            quieter = max(logging.WARNING, logging.root.level)
            logging.getLogger("celery.app.trace").setLevel(quieter)
            logging.getLogger("celery.worker.strategy").setLevel(quieter)


def _lease_maintenance_and_run_the_scheduler(container: BeatContainer) -> None:
    def holds_lease() -> bool:
        try:
            return container.maintenance_lease().hold() is not None
        except DependencyUnavailableError as exc:
            logger.warning("maintenance jobs skipped: %s", exc)
            return False

    InProcessMaintenanceScheduler.holds_lease = staticmethod(holds_lease)

    @beat_init.connect(weak=False)
    def start_scheduler(**_: Any) -> None:
        container.scheduler_loop().start_in_background()
