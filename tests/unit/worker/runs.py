"""RunTask wired on in-memory adapters and the real task-type executor, for the worker's tests."""

from __future__ import annotations

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.executor import TaskTypeExecutor
from adapters.task_types.registry import TaskTypeRegistry
from application.ports import RunObserver, RunSupervisor, SecretCipher
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.append_task_logs import AppendTaskLogs
from application.running.check_run import CheckRun
from application.running.read_owner_role import ReadOwnerRole
from application.running.record_heartbeat import RecordHeartbeat
from application.running.record_outcome import RecordOutcome
from application.running.report_progress import ReportProgress
from application.running.run_task import UNOBSERVED, UNSUPERVISED, RunTask, RunTuning
from application.running.start_task import StartTask
from application.secret_values import NO_ENCRYPTION_KEY
from domain.task import WorkerId
from entrypoints.worker.watchdog import ProcessRunSupervisor


def run_task_on(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    registry: TaskTypeRegistry,
    *,
    publisher: TaskPublisher | None = None,
    supervisor: RunSupervisor = UNSUPERVISED,
    tuning: RunTuning | None = None,
    observer: RunObserver = UNOBSERVED,
    keep_log_lines: int = 1000,
    worker: WorkerId | None = None,
    cipher: SecretCipher = NO_ENCRYPTION_KEY,
) -> RunTask:
    publisher = publisher or TaskPublisher(
        dispatcher=RecordingTaskDispatcher(), recorder=RecordDispatchedNow(uow), clock=clock
    )
    return RunTask(
        claim=StartTask(uow=uow, clock=clock)
        if worker is None
        else StartTask(uow=uow, clock=clock, worker=lambda: worker),
        executor=TaskTypeExecutor(registry, cipher=cipher),
        record_outcome=RecordOutcome(uow=uow, publisher=publisher, clock=clock),
        report_progress=ReportProgress(uow=uow, clock=clock),
        check_run=CheckRun(uow=uow),
        supervisor=supervisor,
        tuning=tuning or RunTuning(),
        observer=observer,
        append_logs=AppendTaskLogs(uow=uow, keep=keep_log_lines),
        read_owner_role=ReadOwnerRole(uow=uow),
    )


def of_its_own(uow: InMemoryUnitOfWork) -> InMemoryUnitOfWork:
    """A unit of work on `uow`'s store for another thread. A unit of work serves one thread
    (as the SQL one does): entering it starts a transaction in place of the open one, so a
    shared one lets a watchdog's heartbeat swap the tables under the run's outcome, which is
    then refused as changed by another writer. Production builds one per use case."""
    return InMemoryUnitOfWork(uow.store, uow.event_store, uow.event_channel)


def watchdog_on(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    *,
    heartbeat_interval: float,
    poll_interval: float,
    grace: float = 1.0,
) -> ProcessRunSupervisor:
    return ProcessRunSupervisor(
        # The watchdog runs on a thread of its own, beside the run.
        heartbeat=RecordHeartbeat(uow=of_its_own(uow), clock=clock),
        check_run=CheckRun(uow=of_its_own(uow)),
        heartbeat_interval=heartbeat_interval,
        poll_interval=poll_interval,
        grace=grace,
    )
