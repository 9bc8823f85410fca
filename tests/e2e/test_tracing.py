"""One trace from a submission to its run: the API and a worker, real processes exporting
their spans to the console (one JSON line each, read back from their output)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack
from tests.support.databases import migrated_database

RUN_TIMEOUT = 30.0
TRACED = {"TASKHUB_OTEL_EXPORTER": "console", "TASKHUB_LOG_FORMAT": "json"}

Span = dict[str, Any]


@pytest.fixture
def traced_stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        stack = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path)
        try:
            stack.start_api(**TRACED)
            # A run's own lines (started, completed) are DEBUG lines: one a task.
            stack.start_worker(concurrency=1, TASKHUB_LOG_LEVEL="DEBUG", **TRACED)
            yield stack
        finally:
            stack.stop()


def lines_of(stack: Stack, name: str) -> list[dict[str, Any]]:
    process = next(p for p in stack.processes if p.name == name)
    found = []
    for line in process.log_text().splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def spans_of(stack: Stack, name: str) -> list[Span]:
    return [line for line in lines_of(stack, name) if "context" in line and "kind" in line]


def one(spans: list[Span], name: str) -> Span:
    named = [span for span in spans if span["name"] == name]
    assert len(named) == 1, f"{name}: {[span['name'] for span in spans]}"
    return named[0]


def trace_of(span: Span) -> str:
    return str(span["context"]["trace_id"]).removeprefix("0x")


def ancestors(span: Span, spans: list[Span]) -> list[str]:
    """The names of a span's parents, nearest first, as far as `spans` holds them."""
    by_id = {s["context"]["span_id"]: s for s in spans}
    names, parent = [], span["parent_id"]
    while parent in by_id:
        names.append(by_id[parent]["name"])
        parent = by_id[parent]["parent_id"]
    return names


def test_a_submission_and_its_run_are_one_trace_across_the_api_and_the_worker(
    traced_stack: Stack,
) -> None:
    with traced_stack.client().sign_up() as client:
        task = client.submit("noop")
        client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)
        stored_trace_id = client.task(task["id"])["trace_id"]

    def all_spans() -> list[Span]:
        return spans_of(traced_stack, "api") + spans_of(traced_stack, "worker")

    api_spans, worker_spans = spans_of(traced_stack, "api"), spans_of(traced_stack, "worker")
    request = one(api_spans, "POST /api/v1/tasks")
    publish = one(api_spans, "apply_async/taskhub.noop")
    run = one(worker_spans, "run/taskhub.noop")
    trace_id = trace_of(request)

    # The task keeps the trace it was submitted in: a bug report's task id leads to it.
    assert stored_trace_id == trace_id
    # API: the request, the publish inside it.
    assert "POST /api/v1/tasks" in ancestors(publish, api_spans)
    # Across the broker: the run's parent is the publish, whose context the headers carried.
    assert run["parent_id"] == publish["context"]["span_id"]
    assert {trace_of(request), trace_of(publish), trace_of(run)} == {trace_id}
    # In the worker, the claim and the outcome write are SQL statements within the run.
    run_statements = [
        span
        for span in worker_spans
        if span["attributes"].get("db.statement", "").startswith("UPDATE tasks")
        and run["name"] in ancestors(span, all_spans())
    ]
    assert len(run_statements) >= 2, [span["name"] for span in worker_spans]
    # And the trace id is in the JSON log lines of both processes.
    for name in ("api", "worker"):
        logged = [line for line in lines_of(traced_stack, name) if line.get("trace_id") == trace_id]
        assert logged, f"no log line of the {name} names trace {trace_id}"


def test_without_an_exporter_nothing_is_traced_and_tasks_carry_no_trace_id(
    redis_url: str, tmp_path: Path
) -> None:
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        stack = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path)
        try:
            stack.start_api(TASKHUB_LOG_FORMAT="json")
            stack.start_worker(concurrency=1, TASKHUB_LOG_FORMAT="json")
            with stack.client().sign_up() as client:
                task = client.submit("noop")
                done = client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)
            assert done["trace_id"] is None
            assert spans_of(stack, "api") == spans_of(stack, "worker") == []
            assert all(line.get("trace_id") == "-" for line in lines_of(stack, "worker"))
        finally:
            stack.stop()
