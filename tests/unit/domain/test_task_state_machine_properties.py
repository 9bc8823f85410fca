"""Property-based checks of the Task state machine: random runs never break its invariants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    StaleRunError,
    ValidationError,
)
from domain.task import TRANSITIONS, Priority, RunToken, Task, TaskError, TaskStatus
from tests.factories import T0, make_task

STATEFUL_SETTINGS = settings(max_examples=200, stateful_step_count=30, deadline=None)

# Which token a worker presents: the current run's (weighted: legal moves are the ones that
# move the task along), an earlier run's, or one never issued.
TOKEN_CHOICES = st.sampled_from(["current", "current", "previous", "bogus"])
PERCENTS = st.integers(min_value=-5, max_value=105)
NAMES = st.sampled_from(["renamed", "  padded  ", "", "   ", "x" * 201])
MAX_ATTEMPTS = st.integers(min_value=1, max_value=3)
BOOM = TaskError("RuntimeError", "boom")


class TaskLifecycle(RuleBasedStateMachine):
    """Drives one Task at a time through random worker and client calls.

    Every rule also knows when its call is legal, so an illegal move must raise one of the
    documented domain errors and leave the task untouched, and a legal move must succeed.
    """

    task: Task

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.issued = 0
        self.previous_token: RunToken | None = None
        self.final_status: TaskStatus | None = None
        self.last_attempts = 0
        self.tracked_run = 0
        self.tracked_progress = 0

    # --- helpers ---------------------------------------------------------------------------

    def _tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def _token(self, choice: str) -> RunToken:
        if choice == "current" and self.task.run_token is not None:
            return self.task.run_token
        if choice == "previous" and self.previous_token is not None:
            return self.previous_token
        return RunToken("never-issued")

    def _holds_the_run(self, token: RunToken) -> bool:
        return self.task.status is TaskStatus.RUNNING and token == self.task.run_token

    def _attempt(self, call: Callable[[], None], allowed: tuple[type[DomainError], ...]) -> bool:
        """Run `call`; a refusal must be one of `allowed` and must change nothing."""
        before = dict(vars(self.task))
        try:
            call()
        except allowed:
            assert vars(self.task) == before
            return False
        if before["run_token"] is not None and self.task.run_token != before["run_token"]:
            # The run just ended: from now on its token is a stale one to try.
            self.previous_token = before["run_token"]
        return True

    def _submit(self, max_attempts: int) -> None:
        self.task = make_task(max_attempts=max_attempts)
        self.final_status = None
        self.last_attempts = 0
        self.tracked_run = 0
        self.tracked_progress = 0

    # --- rules -----------------------------------------------------------------------------

    @initialize(max_attempts=MAX_ATTEMPTS)
    def submit(self, max_attempts: int) -> None:
        self._submit(max_attempts)

    @precondition(lambda self: self.task.is_terminal)
    @rule(max_attempts=MAX_ATTEMPTS)
    def submit_the_next_task(self, max_attempts: int) -> None:
        # Only once the current task is finished, and only after other rules have had the
        # chance to (fail to) move it: a finished task is otherwise a dead end for the run.
        finished = self.task

        self._submit(max_attempts)

        assert self.task != finished
        assert self.task.status is TaskStatus.PENDING

    @rule()
    def start(self) -> None:
        legal = self.task.status is TaskStatus.PENDING
        attempts_before = self.task.attempts
        self.issued += 1
        token = RunToken(f"run-{self.issued}")

        started = self._attempt(
            lambda: self.task.start(run_token=token, at=self._tick()), (InvalidTransitionError,)
        )

        assert started == legal
        if started:
            assert self.task.progress.percent == 0
            assert self.task.attempts == attempts_before + 1
            assert self.task.run_token == token

    @rule(
        percents=st.lists(PERCENTS, min_size=1, max_size=4),
        choice=TOKEN_CHOICES,
        message=st.none() | st.text(max_size=5),
    )
    def report_progress(self, percents: list[int], choice: str, message: str | None) -> None:
        # Several reports in one step, so a run sees rising, repeated and falling values.
        token = self._token(choice)
        for percent in percents:
            legal = self._holds_the_run(token) and self.task.progress.percent <= percent <= 100

            reported = self._attempt(
                partial(
                    self.task.report_progress,
                    run_token=token,
                    percent=percent,
                    message=message,
                    at=self._tick(),
                ),
                (StaleRunError, ValidationError),
            )

            assert reported == legal
            if reported:
                assert self.task.progress.percent == percent
                if message is not None:
                    assert self.task.progress_message == message

    @rule(choice=TOKEN_CHOICES)
    def heartbeat(self, choice: str) -> None:
        token = self._token(choice)
        legal = self._holds_the_run(token)

        beat = self._attempt(
            lambda: self.task.heartbeat(run_token=token, at=self._tick()), (StaleRunError,)
        )

        assert beat == legal

    @rule(choice=TOKEN_CHOICES)
    def complete(self, choice: str) -> None:
        token = self._token(choice)
        legal = self._holds_the_run(token)

        completed = self._attempt(
            lambda: self.task.complete(run_token=token, result="done", at=self._tick()),
            (StaleRunError,),
        )

        assert completed == legal
        if completed:
            assert self.task.status is TaskStatus.COMPLETED

    @rule(choice=TOKEN_CHOICES)
    def fail(self, choice: str) -> None:
        token = self._token(choice)
        legal = self._holds_the_run(token)

        failed = self._attempt(
            lambda: self.task.fail(run_token=token, error=BOOM, at=self._tick()),
            (StaleRunError,),
        )

        assert failed == legal
        if failed:
            assert self.task.status is TaskStatus.FAILED

    @rule(choice=TOKEN_CHOICES)
    def retry(self, choice: str) -> None:
        token = self._token(choice)
        legal = self._holds_the_run(token)
        attempts_left = self.task.can_retry

        retried = self._attempt(
            lambda: self.task.retry(run_token=token, error=BOOM, at=self._tick()),
            (StaleRunError,),
        )

        assert retried == legal
        if retried:
            expected = TaskStatus.PENDING if attempts_left else TaskStatus.FAILED
            assert self.task.status is expected
            assert self.task.error == BOOM

    @rule()
    def cancel(self) -> None:
        legal = not self.task.is_terminal

        cancelled = self._attempt(
            lambda: self.task.cancel(at=self._tick()), (InvalidTransitionError,)
        )

        assert cancelled == legal
        if cancelled:
            assert self.task.status is TaskStatus.CANCELLED

    @rule(name=NAMES)
    def rename(self, name: str) -> None:
        legal = self.task.status is TaskStatus.PENDING and 0 < len(name.strip()) <= 200

        renamed = self._attempt(lambda: self.task.rename(name), (ConflictError, ValidationError))

        assert renamed == legal
        if renamed:
            assert self.task.name == name.strip()

    @rule(priority=st.sampled_from(Priority))
    def change_priority(self, priority: Priority) -> None:
        legal = self.task.status is TaskStatus.PENDING

        changed = self._attempt(lambda: self.task.change_priority(priority), (ConflictError,))

        assert changed == legal

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def status_is_a_known_status(self) -> None:
        assert isinstance(self.task.status, TaskStatus)
        assert self.task.status in TRANSITIONS

    @invariant()
    def terminal_status_never_changes(self) -> None:
        if self.final_status is not None:
            assert self.task.status is self.final_status
        elif self.task.is_terminal:
            self.final_status = self.task.status

    @invariant()
    def progress_stays_in_range_and_never_decreases_within_a_run(self) -> None:
        percent = self.task.progress.percent

        assert 0 <= percent <= 100
        if self.task.attempts == self.tracked_run:
            assert percent >= self.tracked_progress
        self.tracked_run = self.task.attempts
        self.tracked_progress = percent

    @invariant()
    def completed_task_shows_full_progress(self) -> None:
        if self.task.status is TaskStatus.COMPLETED:
            assert self.task.progress.percent == 100

    @invariant()
    def attempts_never_exceed_the_maximum_nor_decrease(self) -> None:
        assert self.last_attempts <= self.task.attempts <= self.task.max_attempts
        self.last_attempts = self.task.attempts

    @invariant()
    def run_token_is_set_exactly_while_running(self) -> None:
        assert (self.task.run_token is not None) == (self.task.status is TaskStatus.RUNNING)


TestTaskLifecycle = TaskLifecycle.TestCase
TestTaskLifecycle.settings = STATEFUL_SETTINGS


# --- random operation sequences only follow the transition table -------------------------------

OPERATIONS = st.tuples(
    st.sampled_from(
        ["start", "report_progress", "heartbeat", "complete", "fail", "retry", "cancel", "rename"]
    ),
    TOKEN_CHOICES,
    PERCENTS,
)


def _apply(task: Task, operation: str, choice: str, percent: int, at: datetime) -> None:
    token = {
        "current": task.run_token or RunToken("none"),
        "previous": RunToken("run-1"),
        "bogus": RunToken("never-issued"),
    }[choice]
    calls: dict[str, Callable[[], None]] = {
        "start": lambda: task.start(run_token=RunToken(f"run-{task.attempts + 1}"), at=at),
        "report_progress": lambda: task.report_progress(run_token=token, percent=percent, at=at),
        "heartbeat": lambda: task.heartbeat(run_token=token, at=at),
        "complete": lambda: task.complete(run_token=token, result=percent, at=at),
        "fail": lambda: task.fail(run_token=token, error=BOOM, at=at),
        "retry": lambda: task.retry(run_token=token, error=BOOM, at=at),
        "cancel": lambda: task.cancel(at=at),
        "rename": lambda: task.rename(f"renamed {percent}"),
    }
    calls[operation]()


@settings(max_examples=300, deadline=None)
@given(
    max_attempts=st.integers(min_value=1, max_value=4),
    operations=st.lists(OPERATIONS, max_size=40),
)
def test_random_operations_only_follow_edges_of_the_transition_table(
    max_attempts: int, operations: list[tuple[str, str, int]]
) -> None:
    task = make_task(max_attempts=max_attempts)
    observed: list[tuple[TaskStatus, TaskStatus]] = []

    for step, (operation, choice, percent) in enumerate(operations):
        before = task.status
        try:
            _apply(task, operation, choice, percent, T0 + timedelta(seconds=step))
        except DomainError:
            assert task.status is before
            continue
        if task.status is not before:
            observed.append((before, task.status))

    for source, target in observed:
        assert target in TRANSITIONS[source], f"illegal edge {source} -> {target}"
    assert task.status in TRANSITIONS
