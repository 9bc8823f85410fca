"""Process-wide logging: JSON lines in production, readable text in development, and the
request and task ids that let one task be followed from the API into the worker."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from application.ports import RunObserver
from application.running.outcomes import Outcome, TaskRun
from entrypoints.tracing import current_trace_id

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)

# What we accept from a client's X-Request-ID: short, and safe to write into a log line.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TEXT_FORMAT = (
    "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s task=%(task_id)s] %(message)s"
)
JSON_FIELDS = (
    "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(task_id)s %(trace_id)s "
    "%(message)s"
)


def request_id_from(header: str | None) -> str:
    """The client's request id when it is a sane one, else a new one."""
    if header and _CLIENT_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Stamps every record with the request, task and trace it belongs to ('-' when none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        record.task_id = task_id_var.get() or "-"
        record.trace_id = current_trace_id() or "-"
        return True


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if json_lines:
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers propagate to ours instead of printing in their own format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


class RequestIdOfRun(RunObserver):
    """Puts a claimed run's request id (the one its task was submitted with) into the log
    lines of the run; the worker's binding clears it when the delivery ends."""

    def started(self, run: TaskRun) -> None:
        request_id_var.set(run.request_id)

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        pass
