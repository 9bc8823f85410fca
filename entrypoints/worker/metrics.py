"""Worker metrics (ADR 10): runs are counted in the pool processes through prometheus-client's
multiprocess files; the worker's main process serves them with the backlog gauges, which it
reads from the broker and the database when scraped."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from celery.signals import worker_init, worker_process_shutdown, worker_ready, worker_shutdown
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from application.errors import DependencyUnavailableError
from application.ports import RunObserver
from application.running.outcomes import (
    Cancelled,
    Completed,
    Failed,
    Outcome,
    Retried,
    TakenBack,
    TaskRun,
)
from application.use_cases.count_tasks_by_status import CountTasksByStatus
from application.use_cases.measure_waiting_tasks import MeasureWaitingTasks, WaitingTasks

logger = logging.getLogger(__name__)
K = TypeVar("K")

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# From a no-op to the longest time limit a task type has (an hour).
RUN_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class PrometheusRunObserver(RunObserver):
    """Counts runs by task type and queue: both labels come from small, fixed sets.

    One per process: two instances in one process would overwrite each other's counts in
    that process's multiprocess file. Left out of any registry by default, because in
    multiprocess mode the files are what gets exported.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        def counter(outcome: str, documentation: str) -> Counter:
            return Counter(
                f"taskhub_tasks_{outcome}", documentation, ("task_type", "queue"), registry=registry
            )

        self._started = counter("started", "Runs started: tasks claimed by a worker process.")
        self._ended: dict[type[Outcome], Counter] = {
            Completed: counter("succeeded", "Runs that completed their task."),
            Failed: counter("failed", "Runs that failed their task for good."),
            Retried: counter("retried", "Runs that failed and queued their task again."),
            Cancelled: counter("cancelled", "Runs stopped because their task was cancelled."),
            TakenBack: counter(
                "taken_back", "Runs whose task was taken back (by the reaper) before they ended."
            ),
        }
        self._seconds = Histogram(
            "taskhub_task_run_seconds",
            "How long runs took, from the claim to the recorded outcome.",
            ("task_type",),
            buckets=RUN_SECONDS_BUCKETS,
            registry=registry,
        )

    def started(self, run: TaskRun) -> None:
        with _never_failing_the_run():
            self._started.labels(run.task_type, run.queue).inc()

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        with _never_failing_the_run():
            self._ended[type(outcome)].labels(run.task_type, run.queue).inc()
            self._seconds.labels(run.task_type).observe(seconds)


class BacklogCollector(Collector):
    """The gauges read when scraped: messages waiting per queue, tasks per status. Every
    worker reports the same deployment-wide values; aggregate them with max, not sum."""

    def __init__(
        self,
        queue_depths: Callable[[], Mapping[str, int]],
        count_tasks: Callable[[], CountTasksByStatus],
        measure_waiting: Callable[[], MeasureWaitingTasks] | None = None,
    ) -> None:
        self._queue_depths = queue_depths
        self._count_tasks = count_tasks
        self._measure_waiting = measure_waiting

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "taskhub_queue_depth", "Messages waiting in each queue on the broker.", labels=["queue"]
        )
        for queue, count in _read("queue depths", self._queue_depths).items():
            depth.add_metric([queue], count)
        yield depth
        tasks = GaugeMetricFamily(
            "taskhub_tasks_by_status", "Tasks in the database, by status.", labels=["status"]
        )
        counts = _read("tasks by status", lambda: self._count_tasks().execute())
        for status, count in counts.items():
            tasks.add_metric([status.value], count)
        yield tasks
        oldest = GaugeMetricFamily(
            "taskhub_oldest_waiting_task_seconds",
            "Per queue, how long its oldest pending task has waited since it became due.",
            labels=["queue"],
        )
        undispatched = GaugeMetricFamily(
            "taskhub_tasks_undispatched",
            "Pending tasks the broker never accepted: the outbox relay's backlog.",
        )
        work = GaugeMetricFamily(
            "taskhub_queue_work",
            "Per queue, tasks pending or running: what to scale its workers by (unlike "
            "taskhub_queue_depth, it counts the messages workers have prefetched or run).",
            labels=["queue"],
        )
        held = GaugeMetricFamily(
            "taskhub_queue_held_tasks",
            "Per queue, pending tasks held back in the database and not yet published, by "
            "reason: concurrency (a key's slots taken), fair_share (a crowded queue shared "
            "round-robin by owner), rate_limit (the task type's rate limit).",
            labels=["queue", "reason"],
        )
        measure = self._measure_waiting
        if measure is not None:
            waiting = _read_waiting(lambda: measure().execute())
            if waiting is not None:
                for queue, seconds in waiting.oldest_seconds.items():
                    oldest.add_metric([queue], seconds)
                undispatched.add_metric([], waiting.undispatched)
                for queue, count in waiting.work.items():
                    work.add_metric([queue], count)
                for queue, reasons in waiting.held.items():
                    for reason, count in reasons.items():
                        held.add_metric([queue, reason], count)
        yield oldest
        yield held
        yield work
        yield undispatched


def serve_worker_metrics(*, port: int, address: str, backlog: Callable[[], Collector]) -> None:
    """Connect the signals that serve metrics from a worker's main process; port 0: don't."""
    directory = os.environ.get(MULTIPROC_DIR_ENV)
    if not port:
        return

    @worker_init.connect(weak=False)
    def start_afresh(**_: Any) -> None:
        # Before the pool forks: files of an earlier run would be counted again.
        if directory:
            _empty(Path(directory))

    @worker_ready.connect(weak=False)
    def serve(**_: Any) -> None:
        if not directory:
            logger.warning(
                "worker metrics not served: set %s to a directory of this worker's own, "
                "or TASKHUB_WORKER_METRICS_PORT=0 (ADR 10)",
                MULTIPROC_DIR_ENV,
            )
            return
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        registry.register(backlog())
        try:
            server, _thread = start_http_server(port, addr=address, registry=registry)
        except OSError as exc:
            # The worker still works; a missing scrape target is what alerts.
            logger.error("worker metrics not served on %s:%s: %s", address, port, exc)
            return
        worker_shutdown.connect(lambda **_: server.shutdown(), weak=False)
        logger.info("worker metrics on http://%s:%s/metrics", address, port)

    @worker_process_shutdown.connect(weak=False)
    def forget_process(pid: int, **_: Any) -> None:
        # Drops the exiting pool process's live-gauge files; none exist today.
        if directory:
            mark_process_dead(pid, directory)


def _empty(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def _read(what: str, read: Callable[[], Mapping[K, int]]) -> Mapping[K, int]:
    try:
        return read()
    except DependencyUnavailableError as exc:
        # The series are missing from this scrape; the log says why.
        logger.warning("metrics: %s not read: %s", what, exc)
        return {}


def _read_waiting(read: Callable[[], WaitingTasks]) -> WaitingTasks | None:
    try:
        return read()
    except DependencyUnavailableError as exc:
        logger.warning("metrics: waiting tasks not read: %s", exc)
        return None


@contextmanager
def _never_failing_the_run() -> Iterator[None]:
    try:
        yield
    except Exception:
        logger.exception("metrics: could not count a run")
