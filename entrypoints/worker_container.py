"""The worker process's container: the core, and how a run is supervised and observed.

Only the worker builds these; the API process never imports them (ADR 17).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from application.running.run_task import RunObservers, RunTask
from entrypoints.container import CoreContainer
from entrypoints.logs import RequestIdOfRun
from entrypoints.worker.metrics import BacklogCollector, PrometheusRunObserver
from entrypoints.worker.watchdog import ProcessRunSupervisor

__all__ = ["WorkerContainer"]


class WorkerContainer(containers.DeclarativeContainer):
    core = providers.Container(CoreContainer)

    run_supervisor = providers.Factory(
        ProcessRunSupervisor,
        heartbeat=core.record_heartbeat,
        check_run=core.check_run,
        heartbeat_interval=core.settings.provided.heartbeat_interval_seconds,
        poll_interval=core.settings.provided.cancel_poll_interval_seconds,
        grace=core.settings.provided.cancel_grace_seconds,
    )
    # One per process: it owns the process's counters (see PrometheusRunObserver).
    run_observer = providers.Singleton(
        RunObservers,
        observers=providers.Callable(
            tuple,
            providers.List(
                providers.Singleton(RequestIdOfRun), providers.Singleton(PrometheusRunObserver)
            ),
        ),
    )
    # Built once per thread (a pool process runs one task at a time), not per delivery:
    # building it and its use cases was a fiftieth of a no-op run. Its units of work are
    # entered anew for each transaction, so nothing of one run carries over to the next.
    run_task = providers.ThreadLocalSingleton(
        RunTask,
        claim=core.start_task,
        executor=core.task_executor,
        record_outcome=core.record_outcome,
        report_progress=core.report_progress,
        check_run=core.check_run,
        supervisor=run_supervisor,
        tuning=core.run_tuning,
        observer=run_observer,
        append_logs=core.append_task_logs,
        read_owner_role=core.read_owner_role,
    )
    backlog_collector = providers.Factory(
        BacklogCollector,
        queue_depths=core.queue_depths.provided.read,
        count_tasks=core.count_tasks_by_status.provider,
        measure_waiting=core.measure_waiting_tasks.provider,
    )
