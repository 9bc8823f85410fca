"""A thread beside each run: heart-beats for it, notices when it is over, stops it if it won't."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from application.errors import DependencyUnavailableError, TaskCancelledError
from application.ports import RunSupervisor
from application.running.check_run import CheckRun
from application.running.context import RunContext, status_found
from application.running.record_heartbeat import RecordHeartbeat
from domain.errors import NotFoundError, StaleRunError

logger = logging.getLogger(__name__)

INTERRUPT_SIGNAL = signal.SIGUSR2


@dataclass
class RunWatchdog:
    """Used as `with RunWatchdog(...):` around one run of a task type's function.

    When the run turns out to be over (cancelled, deleted, re-queued), the context is marked
    so the task's next `ctx.progress`/`ctx.check_cancelled` raises. A task that does not
    cooperate within `grace` is interrupted (a signal to this process, which raises
    TaskCancelledError in the running function); one that still runs after another `grace`
    is killed with its process. Both are aimed only at this process while it still runs this
    same run: the lock makes "still running this run" and "signal it" one step.
    """

    ctx: RunContext
    heartbeat: RecordHeartbeat
    check_run: CheckRun
    heartbeat_interval: float
    poll_interval: float
    grace: float
    interrupt: Callable[[], None] = lambda: os.kill(os.getpid(), INTERRUPT_SIGNAL)
    kill: Callable[[], None] = lambda: os.kill(os.getpid(), signal.SIGKILL)
    _done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started: float = 0.0

    def __enter__(self) -> RunWatchdog:
        self._started = time.monotonic()
        _set_active(self)
        _ensure_process_watcher(self.poll_interval)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Not waited for: the watcher leaves this run at its next look, and whatever it
        # writes meanwhile is refused by the run token once the outcome is stored.
        with self._lock:
            self._done.set()
            _set_active(None)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def _watch(self) -> None:
        last_beat = self._started
        # First look one interval after the run began, however late the watcher came by.
        wait = max(0.0, self._started + self.poll_interval - time.monotonic())
        while not self._done.wait(wait):
            wait = self.poll_interval
            try:
                if time.monotonic() - last_beat >= self.heartbeat_interval:
                    self.heartbeat.execute(self.ctx.task_id, self.ctx.run_token)
                    last_beat = time.monotonic()
                else:
                    self.check_run.execute(self.ctx.task_id, self.ctx.run_token)
            except (StaleRunError, NotFoundError) as exc:
                if self.running:
                    self._stop_the_run(status_found(exc))
                return
            except DependencyUnavailableError as exc:
                logger.warning("watchdog of %s: %s", self.ctx.task_id, exc)
            except Exception:
                logger.exception("watchdog of %s failed; retrying", self.ctx.task_id)

    def _stop_the_run(self, status: str | None) -> None:
        logger.info("task %s is %s; stopping its run", self.ctx.task_id, status or "gone")
        self.ctx.mark_over(status)
        for escalate in (self.interrupt, self.kill):
            if self._done.wait(self.grace):
                return
            with self._lock:
                if self.running:
                    logger.warning(
                        "task %s ignores cancellation; %s",
                        self.ctx.task_id,
                        "interrupting it" if escalate is self.interrupt else "killing its process",
                    )
                    escalate()


@dataclass(frozen=True)
class ProcessRunSupervisor(RunSupervisor):
    """Supervises each run of this process with a RunWatchdog."""

    heartbeat: RecordHeartbeat
    check_run: CheckRun
    heartbeat_interval: float = 2.0
    poll_interval: float = 0.5
    grace: float = 1.0

    def watch(self, context: RunContext) -> RunWatchdog:
        if threading.current_thread() is threading.main_thread():
            install_interrupt_handler()
        return RunWatchdog(
            ctx=context,
            heartbeat=self.heartbeat,
            check_run=self.check_run,
            heartbeat_interval=self.heartbeat_interval,
            poll_interval=self.poll_interval,
            grace=self.grace,
        )


class _Watcher:
    """The thread of a process that watches its runs, one after another, looking for the
    active run every `poll_interval`. Started once, not per run: starting and joining a
    thread per run cost a no-op task about a fifth of its time on a busy two-core machine
    (bench/, docs/benchmarks.md). Nor is it handed each run: waking it per run still cost
    a tenth (profiled), and most runs end before the first look is due anyway."""

    def __init__(self, poll_interval: float) -> None:
        self.pid = os.getpid()
        self._poll_interval = poll_interval
        self._interval_changed = threading.Event()
        threading.Thread(target=self._loop, name="watchdog", daemon=True).start()

    def use_interval(self, poll_interval: float) -> None:
        if poll_interval != self._poll_interval:  # rare: the one wake-up it costs is fine
            self._poll_interval = poll_interval
            self._interval_changed.set()

    def _loop(self) -> None:
        while True:
            run = _active
            if run is not None and run.running:
                run._watch()  # returns once the run is over
            elif self._interval_changed.wait(self._poll_interval):
                self._interval_changed.clear()


_watcher: _Watcher | None = None
_watcher_lock = threading.Lock()


def _ensure_process_watcher(poll_interval: float) -> None:
    global _watcher
    with _watcher_lock:
        if _watcher is None or _watcher.pid != os.getpid():  # threads do not survive a fork
            _watcher = _Watcher(poll_interval)
        else:
            _watcher.use_interval(poll_interval)


_active: RunWatchdog | None = None


def _set_active(watchdog: RunWatchdog | None) -> None:
    global _active
    _active = watchdog


def _raise_if_run_active(signum: int, frame: FrameType | None) -> None:
    # Runs in the main thread, where the task's function is; ignores a late signal that
    # arrives after the run already ended.
    if _active is not None and _active.running:
        raise TaskCancelledError("the task was cancelled", task_id=str(_active.ctx.task_id))


_handler_installed_in: int | None = None  # the pid: a forked child installs its own


def install_interrupt_handler() -> None:
    """Call from the main thread of the process that runs tasks; once a process (a
    system call per run showed in the run's profile)."""
    global _handler_installed_in
    if _handler_installed_in != os.getpid():
        signal.signal(INTERRUPT_SIGNAL, _raise_if_run_active)
        _handler_installed_in = os.getpid()
