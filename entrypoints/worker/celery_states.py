"""A run's stored outcome told to Celery, so that its events (what Flower shows) agree with
the database: SUCCESS, FAILURE with the error, RETRY, or REVOKED.

The database stays the truth: by the time Celery hears of the outcome it is stored, and
nothing here is stored or re-sent. Only the end of the Celery task differs: it returns, or
raises one of Celery's own signals, each of which acknowledges the late-acked message like
a return does. A lost worker process still requeues it (`reject_on_worker_lost`).
"""

from __future__ import annotations

from celery.exceptions import Ignore, Retry, Terminated

from application.running.outcomes import (
    Cancelled,
    Completed,
    Failed,
    Retried,
    RunOutcome,
    Skipped,
    TakenBack,
)


class TaskRunError(Exception):
    """The error a run ended with, as "Type: message", for Celery's events to carry."""


# Raised on purpose: Celery logs them as expected (no traceback); the runner already
# logged the task's own error where it happened.
EXPECTED_ERRORS = (TaskRunError, Terminated)


def report_to_celery(outcome: RunOutcome) -> str:
    """Return for SUCCESS; otherwise raise what makes Celery report the outcome's state."""
    if isinstance(outcome, Completed):
        return "completed"
    if isinstance(outcome, Failed):
        raise TaskRunError(f"{outcome.error_type}: {outcome.message}")
    if isinstance(outcome, Retried):
        # Only the task-retried event: RecordOutcome has re-published the task already.
        raise Retry(
            f"retried in {outcome.countdown:g}s",
            exc=TaskRunError(f"{outcome.error_type}: {outcome.message}"),
            when=outcome.countdown,
        )
    if isinstance(outcome, Cancelled):
        raise Terminated("cancelled")
    if isinstance(outcome, TakenBack):
        # The reaper took the task back and re-published it: another run redoes it.
        raise Retry(f"taken back (the task is {outcome.status})", exc=TaskRunError("taken back"))
    return _report_skipped(outcome)


def _report_skipped(outcome: Skipped) -> str:
    if outcome.found in ("cancelled", "deleted"):
        # Cancelled before this delivery ran it (a revoke the worker missed, or the copy
        # requeued after a cancelled run's process was killed).
        raise Terminated("cancelled")
    if outcome.found == "completed":
        return "completed"  # a redelivered copy of a run that completed
    if outcome.found == "failed":
        raise TaskRunError("the task had failed already")
    # Running or pending: another delivery owns the task and reports it; this one says
    # nothing, so as not to overwrite that delivery's state.
    raise Ignore()
