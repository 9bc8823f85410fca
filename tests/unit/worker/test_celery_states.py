"""The Celery state each stored outcome is reported as (the events themselves are tested on
a real worker in tests/integration/monitoring)."""

from __future__ import annotations

import pytest
from celery.exceptions import Ignore, Retry, Terminated

from application.running.outcomes import Cancelled, Completed, Failed, Retried, Skipped, TakenBack
from entrypoints.worker.celery_states import TaskRunError, report_to_celery


def test_a_completed_run_returns() -> None:
    assert report_to_celery(Completed({"any": "result"})) == "completed"


def test_a_failed_run_raises_its_error() -> None:
    with pytest.raises(TaskRunError, match=r"^ValueError: boom$"):
        report_to_celery(Failed("ValueError", "boom"))


def test_a_retried_run_raises_a_retry_carrying_its_error() -> None:
    with pytest.raises(Retry) as raised:
        report_to_celery(Retried("ConnectionError", "refused", countdown=1.5))

    assert str(raised.value.exc) == "ConnectionError: refused"


def test_a_cancelled_run_is_terminated() -> None:
    with pytest.raises(Terminated):
        report_to_celery(Cancelled())


@pytest.mark.parametrize("found", ["cancelled", "deleted"])
def test_a_delivery_of_a_cancelled_or_deleted_task_is_terminated(found: str) -> None:
    with pytest.raises(Terminated):
        report_to_celery(Skipped(found))


@pytest.mark.parametrize("found", ["running", "pending", None])
def test_a_delivery_of_a_task_another_delivery_owns_reports_nothing(found: str | None) -> None:
    with pytest.raises(Ignore):
        report_to_celery(Skipped(found))


def test_a_redelivered_copy_of_a_finished_task_reports_how_it_finished() -> None:
    assert report_to_celery(Skipped("completed")) == "completed"
    with pytest.raises(TaskRunError):
        report_to_celery(Skipped("failed"))


def test_a_run_taken_back_by_the_reaper_is_a_retry_for_celery() -> None:
    with pytest.raises(Retry):
        report_to_celery(TakenBack(status="pending"))
