"""The Task entity: submission rules and the state machine that owns its status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.errors import ConflictError, InvalidTransitionError, StaleRunError, ValidationError
from domain.task import (
    ACTIVE_STATUSES,
    MAX_NAME_LENGTH,
    TRANSITIONS,
    Priority,
    Progress,
    RunToken,
    Task,
    TaskError,
    TaskStatus,
)
from tests.factories import T0, make_running_task, make_task, make_user

TOKEN = RunToken("run-1")
STALE = RunToken("run-0")
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
BOOM = TaskError("RuntimeError", "boom")


def _completed_task() -> Task:
    task = make_running_task()
    task.complete(run_token=TOKEN, result={"ok": True}, at=T1)
    return task


def _failed_task() -> Task:
    task = make_running_task()
    task.fail(run_token=TOKEN, error=BOOM, at=T1)
    return task


def _cancelled_task() -> Task:
    task = make_task()
    task.cancel(at=T1)
    return task


TERMINAL_TASKS = {
    "completed": _completed_task,
    "failed": _failed_task,
    "cancelled": _cancelled_task,
}


# --- submit ----------------------------------------------------------------------------------


def test_submitted_task_is_pending_with_nothing_run_yet() -> None:
    user = make_user()

    task = Task.submit(
        name="  nightly report  ",
        task_type="report.nightly_v2",
        user_id=user.id,
        at=T0,
        priority=Priority.HIGH,
        args=[1, 2],
        kwargs={"seconds": 3},
        max_attempts=5,
    )

    assert task.status is TaskStatus.PENDING
    assert task.name == "nightly report"
    assert task.task_type == "report.nightly_v2"
    assert task.user_id == user.id
    assert task.created_at == T0
    assert task.priority is Priority.HIGH
    assert task.args == [1, 2]
    assert task.kwargs == {"seconds": 3}
    assert task.max_attempts == 5
    assert task.attempts == 0
    assert task.progress == Progress(0)
    assert task.run_token is None
    assert task.dispatched is False
    assert task.started_at is None
    assert task.completed_at is None


def test_submit_copies_args_and_kwargs_so_the_caller_cannot_change_them_later() -> None:
    args = [1]
    kwargs = {"seconds": 3}

    task = Task.submit(
        name="n", task_type="sleep", user_id=make_user().id, at=T0, args=args, kwargs=kwargs
    )
    args.append(2)
    kwargs["seconds"] = 99

    assert task.args == [1]
    assert task.kwargs == {"seconds": 3}


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_blank_name_is_rejected(name: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_task(name=name)

    assert excinfo.value.field == "name"


def test_name_longer_than_the_limit_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_task(name="x" * (MAX_NAME_LENGTH + 1))

    assert excinfo.value.field == "name"


def test_name_of_exactly_the_limit_is_accepted() -> None:
    task = make_task(name="x" * MAX_NAME_LENGTH)

    assert len(task.name) == MAX_NAME_LENGTH


def test_name_length_is_measured_after_stripping_blanks() -> None:
    task = make_task(name="  " + "x" * MAX_NAME_LENGTH + "  ")

    assert task.name == "x" * MAX_NAME_LENGTH


@pytest.mark.parametrize(
    "task_type",
    ["", "Sleep", "1sleep", "_sleep", ".sleep", "sleep-well", "sleep well", "a" * 101, "slé"],
)
def test_task_type_outside_the_allowed_pattern_is_rejected(task_type: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_task(task_type=task_type)

    assert excinfo.value.field == "task_type"


def test_task_type_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_task(task_type="sleep\n")

    assert excinfo.value.field == "task_type"


@pytest.mark.parametrize("task_type", ["a", "sleep", "model.validate_v2", "a" * 100])
def test_task_type_inside_the_allowed_pattern_is_accepted(task_type: str) -> None:
    task = make_task(task_type=task_type)

    assert task.task_type == task_type


@pytest.mark.parametrize("max_attempts", [0, -1])
def test_max_attempts_below_one_is_rejected(max_attempts: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_task(max_attempts=max_attempts)

    assert excinfo.value.field == "max_attempts"


def test_a_single_attempt_is_allowed() -> None:
    task = make_task(max_attempts=1)

    assert task.max_attempts == 1


# --- start -----------------------------------------------------------------------------------


def test_start_claims_the_task_for_one_run() -> None:
    task = make_task()

    task.start(run_token=TOKEN, at=T1)

    assert task.status is TaskStatus.RUNNING
    assert task.attempts == 1
    assert task.run_token == TOKEN
    assert task.started_at == T1
    assert task.heartbeat_at == T1
    assert task.progress == Progress(0)
    assert task.progress_message is None
    assert task.dispatched is True


def test_starting_a_running_task_again_is_an_invalid_transition() -> None:
    task = make_running_task()

    with pytest.raises(InvalidTransitionError) as excinfo:
        task.start(run_token=RunToken("run-2"), at=T1)

    assert (excinfo.value.from_, excinfo.value.to) == ("running", "running")
    assert task.run_token == TOKEN
    assert task.attempts == 1


def test_a_new_run_after_a_retry_resets_progress_and_message() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=60, message="halfway", at=T1)
    task.retry(run_token=TOKEN, error=BOOM, at=T1)

    task.start(run_token=RunToken("run-2"), at=T2)

    assert task.progress == Progress(0)
    assert task.progress_message is None
    assert task.attempts == 2
    assert task.run_token == RunToken("run-2")
    assert task.started_at == T2


# --- report_progress and heartbeat -----------------------------------------------------------


def test_progress_is_recorded_with_its_message_and_refreshes_the_heartbeat() -> None:
    task = make_running_task()

    task.report_progress(run_token=TOKEN, percent=40, message="loading", at=T1)

    assert task.progress == Progress(40)
    assert task.progress_message == "loading"
    assert task.heartbeat_at == T1


def test_progress_without_a_message_keeps_the_previous_message() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=10, message="loading", at=T1)

    task.report_progress(run_token=TOKEN, percent=20, at=T2)

    assert task.progress == Progress(20)
    assert task.progress_message == "loading"


def test_progress_may_repeat_the_same_value() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=30, at=T1)

    task.report_progress(run_token=TOKEN, percent=30, message="still here", at=T2)

    assert task.progress == Progress(30)
    assert task.progress_message == "still here"


@pytest.mark.parametrize("percent", [0, 100])
def test_progress_bounds_are_accepted(percent: int) -> None:
    task = make_running_task()

    task.report_progress(run_token=TOKEN, percent=percent, at=T1)

    assert task.progress.percent == percent


def test_progress_cannot_go_backwards() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=50, message="half", at=T1)

    with pytest.raises(ValidationError) as excinfo:
        task.report_progress(run_token=TOKEN, percent=49, message="oops", at=T2)

    assert excinfo.value.field == "progress"
    assert task.progress == Progress(50)
    assert task.progress_message == "half"
    assert task.heartbeat_at == T1


@pytest.mark.parametrize("percent", [-1, 101])
def test_progress_outside_zero_to_hundred_is_rejected(percent: int) -> None:
    task = make_running_task()

    with pytest.raises(ValidationError) as excinfo:
        task.report_progress(run_token=TOKEN, percent=percent, at=T1)

    assert excinfo.value.field == "progress"
    assert task.progress == Progress(0)


def test_progress_with_a_stale_token_is_refused() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError):
        task.report_progress(run_token=STALE, percent=10, at=T1)

    assert task.progress == Progress(0)
    assert task.heartbeat_at == T0


def test_progress_on_a_task_that_is_not_running_is_refused() -> None:
    task = make_task()

    with pytest.raises(StaleRunError) as excinfo:
        task.report_progress(run_token=TOKEN, percent=10, at=T1)

    assert excinfo.value.context["status"] == "pending"
    assert task.progress == Progress(0)


def test_heartbeat_refreshes_the_heartbeat_time_only() -> None:
    task = make_running_task()

    task.heartbeat(run_token=TOKEN, at=T1)

    assert task.heartbeat_at == T1
    assert task.status is TaskStatus.RUNNING
    assert task.progress == Progress(0)


def test_heartbeat_with_a_stale_token_is_refused() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError):
        task.heartbeat(run_token=STALE, at=T1)

    assert task.heartbeat_at == T0


def test_current_run_check_accepts_the_current_token_and_changes_nothing() -> None:
    task = make_running_task()
    before = dict(vars(task))

    task.ensure_current_run(TOKEN)

    assert vars(task) == before


def test_current_run_check_refuses_a_stale_token() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError) as excinfo:
        task.ensure_current_run(STALE)

    assert excinfo.value.context["status"] == "running"


def test_the_token_of_an_earlier_run_is_refused_after_the_task_is_claimed_again() -> None:
    task = make_running_task()
    task.retry(run_token=TOKEN, error=BOOM, at=T1)
    task.start(run_token=RunToken("run-2"), at=T2)

    with pytest.raises(StaleRunError):
        task.heartbeat(run_token=TOKEN, at=T2)

    assert task.run_token == RunToken("run-2")


# --- complete, fail --------------------------------------------------------------------------


def test_complete_stores_the_result_and_sets_progress_to_hundred() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=40, at=T1)

    task.complete(run_token=TOKEN, result={"rows": 7}, at=T2)

    assert task.status is TaskStatus.COMPLETED
    assert task.result == {"rows": 7}
    assert task.error is None
    assert task.progress == Progress(100)
    assert task.completed_at == T2


def test_complete_clears_a_progress_message_of_an_earlier_stage() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=25, message="2/8 values", at=T1)

    task.complete(run_token=TOKEN, result=8, at=T2)

    assert (task.progress, task.progress_message) == (Progress(100), None)


def test_complete_with_a_final_message_shows_it() -> None:
    task = make_running_task()
    task.report_progress(run_token=TOKEN, percent=25, message="2/8 values", at=T1)

    task.complete(run_token=TOKEN, result=8, at=T2, message="8/8 values")

    assert (task.progress, task.progress_message) == (Progress(100), "8/8 values")


def test_complete_after_a_retry_clears_the_earlier_error() -> None:
    task = make_running_task()
    task.retry(run_token=TOKEN, error=BOOM, at=T1)
    task.start(run_token=RunToken("run-2"), at=T1)

    task.complete(run_token=RunToken("run-2"), result=1, at=T2)

    assert task.status is TaskStatus.COMPLETED
    assert task.error is None


def test_complete_with_a_stale_token_is_refused() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError):
        task.complete(run_token=STALE, result=1, at=T1)

    assert task.status is TaskStatus.RUNNING
    assert task.result is None


def test_fail_records_the_error() -> None:
    task = make_running_task()

    task.fail(run_token=TOKEN, error=BOOM, at=T1)

    assert task.status is TaskStatus.FAILED
    assert task.error == TaskError("RuntimeError", "boom")
    assert task.completed_at == T1


def test_fail_with_a_stale_token_is_refused() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError):
        task.fail(run_token=STALE, error=BOOM, at=T1)

    assert task.status is TaskStatus.RUNNING
    assert task.error is None


def test_task_error_reads_as_type_and_message() -> None:
    error = TaskError("ValueError", "bad input")

    text = str(error)

    assert text == "ValueError: bad input"


def test_complete_clears_the_run_token() -> None:
    task = make_running_task()

    task.complete(run_token=TOKEN, result=1, at=T1)

    assert task.run_token is None


def test_fail_clears_the_run_token() -> None:
    task = make_running_task()

    task.fail(run_token=TOKEN, error=BOOM, at=T1)

    assert task.run_token is None


# --- retry -----------------------------------------------------------------------------------


def test_retry_with_attempts_left_sends_the_task_back_to_pending() -> None:
    task = make_running_task(max_attempts=3)

    task.retry(run_token=TOKEN, error=BOOM, at=T1)

    assert task.status is TaskStatus.PENDING
    assert task.run_token is None
    assert task.heartbeat_at is None
    assert task.dispatched is False
    assert task.error == BOOM
    assert task.attempts == 1
    assert task.completed_at is None


def test_retry_on_the_last_attempt_fails_the_task() -> None:
    task = make_running_task(max_attempts=2)
    task.retry(run_token=TOKEN, error=BOOM, at=T1)
    task.start(run_token=RunToken("run-2"), at=T1)
    last = TaskError("RuntimeError", "boom again")

    task.retry(run_token=RunToken("run-2"), error=last, at=T2)

    assert task.status is TaskStatus.FAILED
    assert task.error == last
    assert task.attempts == 2
    assert task.completed_at == T2


def test_retry_with_a_single_attempt_fails_immediately() -> None:
    task = make_running_task(max_attempts=1)

    task.retry(run_token=TOKEN, error=BOOM, at=T1)

    assert task.status is TaskStatus.FAILED
    assert task.can_retry is False


def test_retry_with_a_stale_token_is_refused() -> None:
    task = make_running_task()

    with pytest.raises(StaleRunError):
        task.retry(run_token=STALE, error=BOOM, at=T1)

    assert task.status is TaskStatus.RUNNING
    assert task.run_token == TOKEN


# --- runs ended from outside: the reaper and the hard time limit ------------------------------

LOST = TaskError("WorkerLostError", "worker stopped heart-beating 60s ago")


def test_abandoning_a_run_with_attempts_left_sends_the_task_back_to_pending_without_its_token() -> (
    None
):
    task = make_running_task(max_attempts=3)

    task.abandon_run(error=LOST, at=T1)

    assert task.status is TaskStatus.PENDING
    assert (task.run_token, task.heartbeat_at, task.dispatched) == (None, None, False)
    assert task.error == LOST
    assert task.completed_at is None


def test_abandoning_the_last_attempt_fails_the_task() -> None:
    task = make_running_task(max_attempts=1)

    task.abandon_run(error=LOST, at=T1)

    assert task.status is TaskStatus.FAILED
    assert (task.error, task.completed_at, task.run_token) == (LOST, T1, None)


def test_a_pending_task_has_no_run_to_abandon() -> None:
    task = make_task()

    with pytest.raises(InvalidTransitionError) as excinfo:
        task.abandon_run(error=LOST, at=T1)

    assert (excinfo.value.from_, excinfo.value.to) == ("pending", "pending")
    assert task.status is TaskStatus.PENDING
    assert task.error is None


def test_stopping_an_overrun_fails_the_task_even_with_attempts_left() -> None:
    task = make_running_task(max_attempts=3)
    overrun = TaskError("TimeLimitExceeded", "ran past its time limit (5s)")

    task.stop_overrun(error=overrun, at=T1)

    assert task.status is TaskStatus.FAILED
    assert (task.error, task.completed_at, task.run_token) == (overrun, T1, None)


def test_a_pending_task_cannot_overrun() -> None:
    task = make_task()

    with pytest.raises(InvalidTransitionError) as excinfo:
        task.stop_overrun(error=BOOM, at=T1)

    assert (excinfo.value.from_, excinfo.value.to) == ("pending", "failed")
    assert task.status is TaskStatus.PENDING


def test_can_retry_while_attempts_remain() -> None:
    task = make_task(max_attempts=2)

    before_any_run = task.can_retry
    task.start(run_token=TOKEN, at=T0)
    after_first_run = task.can_retry
    task.retry(run_token=TOKEN, error=BOOM, at=T0)
    task.start(run_token=RunToken("run-2"), at=T0)
    after_second_run = task.can_retry

    assert (before_any_run, after_first_run, after_second_run) == (True, True, False)


# --- cancel ----------------------------------------------------------------------------------


def test_pending_task_can_be_cancelled() -> None:
    task = make_task()

    task.cancel(at=T1)

    assert task.status is TaskStatus.CANCELLED
    assert task.completed_at == T1
    assert task.run_token is None


def test_running_task_can_be_cancelled_and_its_run_is_revoked() -> None:
    task = make_running_task()

    task.cancel(at=T1)

    assert task.status is TaskStatus.CANCELLED
    assert task.completed_at == T1
    assert task.run_token is None
    with pytest.raises(StaleRunError):
        task.heartbeat(run_token=TOKEN, at=T2)


@pytest.mark.parametrize("terminal", TERMINAL_TASKS.values(), ids=TERMINAL_TASKS.keys())
def test_finished_task_cannot_be_cancelled(terminal: Callable[[], Task]) -> None:
    task = terminal()
    status_before = task.status

    with pytest.raises(InvalidTransitionError) as excinfo:
        task.cancel(at=T2)

    assert excinfo.value.entity == "task"
    assert excinfo.value.from_ == status_before.value
    assert excinfo.value.to == "cancelled"
    assert task.status is status_before
    assert task.completed_at == T1


# --- terminal states are final ---------------------------------------------------------------


def _every_change(task: Task) -> dict[str, Callable[[], None]]:
    token = task.run_token or TOKEN
    return {
        "start": lambda: task.start(run_token=RunToken("run-9"), at=T2),
        "report_progress": lambda: task.report_progress(run_token=token, percent=100, at=T2),
        "heartbeat": lambda: task.heartbeat(run_token=token, at=T2),
        "ensure_current_run": lambda: task.ensure_current_run(token),
        "complete": lambda: task.complete(run_token=token, result=2, at=T2),
        "fail": lambda: task.fail(run_token=token, error=BOOM, at=T2),
        "retry": lambda: task.retry(run_token=token, error=BOOM, at=T2),
        "abandon_run": lambda: task.abandon_run(error=BOOM, at=T2),
        "stop_overrun": lambda: task.stop_overrun(error=BOOM, at=T2),
        "cancel": lambda: task.cancel(at=T2),
        "rename": lambda: task.rename("other"),
        "change_priority": lambda: task.change_priority(Priority.HIGH),
    }


@pytest.mark.parametrize("terminal", TERMINAL_TASKS.values(), ids=TERMINAL_TASKS.keys())
@pytest.mark.parametrize(
    "method",
    [
        "start",
        "report_progress",
        "heartbeat",
        "ensure_current_run",
        "complete",
        "fail",
        "retry",
        "abandon_run",
        "stop_overrun",
        "cancel",
        "rename",
        "change_priority",
    ],
)
def test_terminal_task_refuses_every_change(terminal: Callable[[], Task], method: str) -> None:
    task = terminal()
    before = dict(vars(task))

    with pytest.raises(ConflictError):
        _every_change(task)[method]()

    assert vars(task) == before


def test_terminal_statuses_are_reported_as_terminal() -> None:
    terminal = {status for status in TaskStatus if status.is_terminal}

    assert terminal == {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}
    active = frozenset({TaskStatus.WAITING, TaskStatus.PENDING, TaskStatus.RUNNING})
    assert active == ACTIVE_STATUSES
    assert _completed_task().is_terminal is True
    assert make_task().is_terminal is False


# --- rename and change_priority --------------------------------------------------------------


def test_pending_task_can_be_renamed() -> None:
    task = make_task()

    task.rename("  weekly report ")

    assert task.name == "weekly report"


def test_rename_to_a_blank_name_is_rejected() -> None:
    task = make_task(name="keep me")

    with pytest.raises(ValidationError) as excinfo:
        task.rename("   ")

    assert excinfo.value.field == "name"
    assert task.name == "keep me"


def test_running_task_cannot_be_renamed() -> None:
    task = make_running_task(name="keep me")

    with pytest.raises(ConflictError):
        task.rename("other")

    assert task.name == "keep me"


def test_pending_task_priority_can_be_changed_and_moves_its_queue() -> None:
    task = make_task(priority=Priority.NORMAL)

    task.change_priority(Priority.LOW)

    assert task.priority is Priority.LOW
    assert task.queue == "low_priority"


def test_running_task_priority_cannot_be_changed() -> None:
    task = make_running_task(priority=Priority.NORMAL)

    with pytest.raises(ConflictError):
        task.change_priority(Priority.HIGH)

    assert task.priority is Priority.NORMAL


def test_mark_dispatched_records_that_the_broker_took_the_message_and_when_it_is_due() -> None:
    task = make_task()

    task.mark_dispatched(due_at=T0 + timedelta(seconds=30))

    assert task.dispatched is True
    assert task.due_at == T0 + timedelta(seconds=30)


def test_a_retry_leaves_the_task_undispatched_until_its_next_message_goes_out() -> None:
    task = make_running_task()

    task.retry(run_token=RunToken(task.run_token or ""), error=TaskError("E", "boom"), at=T0)

    assert task.status is TaskStatus.PENDING
    assert task.dispatched is False


# --- priority queues -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "queue"),
    [
        (Priority.HIGH, "high_priority"),
        (Priority.NORMAL, "default"),
        (Priority.LOW, "low_priority"),
    ],
)
def test_each_priority_maps_to_its_queue(priority: Priority, queue: str) -> None:
    task = make_task(priority=priority)

    assert priority.queue == queue
    assert task.queue == queue


# --- the transition table --------------------------------------------------------------------


def test_every_status_is_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(TaskStatus)


def test_every_transition_target_is_a_known_status() -> None:
    targets = set().union(*TRANSITIONS.values())

    assert targets <= set(TaskStatus)


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED])
def test_terminal_status_has_no_exits(status: TaskStatus) -> None:
    assert TRANSITIONS[status] == frozenset()


def test_active_statuses_have_the_documented_exits() -> None:
    assert TRANSITIONS[TaskStatus.PENDING] == {TaskStatus.RUNNING, TaskStatus.CANCELLED}
    assert TRANSITIONS[TaskStatus.RUNNING] == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.PENDING,
    }


# --- Progress value object -------------------------------------------------------------------


@pytest.mark.parametrize("percent", [True, False])
def test_progress_rejects_booleans(percent: bool) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Progress(percent)

    assert excinfo.value.field == "progress"


@pytest.mark.parametrize("percent", [50.0, "50", None])
def test_progress_rejects_non_integers(percent: object) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Progress(percent)  # type: ignore[arg-type]

    assert excinfo.value.field == "progress"


@pytest.mark.parametrize("percent", [-1, 101, 1000])
def test_progress_rejects_values_outside_zero_to_hundred(percent: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Progress(percent)

    assert excinfo.value.field == "progress"


def test_progress_defaults_to_zero_and_compares_by_value() -> None:
    assert Progress() == Progress(0)
    assert Progress(42) == Progress(42)
    assert Progress(42) != Progress(43)


# --- identity --------------------------------------------------------------------------------


def test_tasks_with_the_same_id_are_equal_whatever_their_state() -> None:
    task = make_task(name="one")
    same = Task.submit(
        name="two", task_type="other", user_id=make_user().id, at=T1, task_id=task.id
    )

    assert task == same
    assert hash(task) == hash(same)
    assert len({task, same}) == 1


def test_tasks_with_different_ids_are_not_equal_even_if_alike() -> None:
    user = make_user()

    first = make_task(user=user)
    second = make_task(user=user)

    assert first != second
    assert first != first.id


def test_a_task_with_dependencies_waits_until_released_then_is_pending_and_undispatched() -> None:
    task = Task.submit(
        name="train", task_type="noop", user_id=make_user().id, at=T0, depends_on=["prepare"]
    )
    assert task.status is TaskStatus.WAITING
    with pytest.raises(InvalidTransitionError):
        task.start(run_token=RunToken("r"), at=T0)
    task.dependencies_met()
    assert task.status is TaskStatus.PENDING
    assert task.dispatched is False


def test_a_waiting_task_is_released_only_when_its_last_dependency_is_met() -> None:
    task = Task.submit(
        name="compare", task_type="noop", user_id=make_user().id, at=T0, depends_on=["a", "b", "c"]
    )
    assert task.unmet_dependencies == 3
    task.dependencies_met()
    assert (task.status, task.unmet_dependencies) == (TaskStatus.WAITING, 2)
    task.dependencies_met(2)
    assert (task.status, task.unmet_dependencies) == (TaskStatus.PENDING, 0)


def test_a_dependency_cannot_be_counted_met_beyond_those_a_task_waits_for() -> None:
    task = Task.submit(
        name="compare", task_type="noop", user_id=make_user().id, at=T0, depends_on=["a", "b"]
    )
    with pytest.raises(ConflictError):
        task.dependencies_met(3)
    with pytest.raises(ConflictError):
        task.dependencies_met(0)
    assert (task.status, task.unmet_dependencies) == (TaskStatus.WAITING, 2)
    task.dependencies_met(2)
    with pytest.raises(ConflictError):
        task.dependencies_met()  # pending now: nothing left to wait for


def test_a_waiting_task_cancelled_below_a_failure_says_why() -> None:
    task = Task.submit(name="t", task_type="noop", user_id=make_user().id, at=T0, depends_on=["a"])
    task.cancel(at=T0, error=TaskError("UpstreamFailed", "task 'a' failed"))
    assert task.status is TaskStatus.CANCELLED
    assert task.error == TaskError("UpstreamFailed", "task 'a' failed")
