"""`taskhub tasks ...`: submit, get, list, cancel, watch and re-run tasks, and read their
attempts and logs, through the REST API."""

from __future__ import annotations

import enum
import json
import time
from typing import Annotated, Any
from uuid import UUID

import typer

from entrypoints.client import arguments
from entrypoints.client.api_client import ApiClient
from entrypoints.client.output import (
    attempt_table,
    console,
    local_time,
    log_line,
    print_json,
    print_table,
    reported_errors,
    shown,
    task_detail,
    task_table,
)
from entrypoints.client.session import logged_in_client
from entrypoints.client.watch import watch_until_done

tasks_app = typer.Typer(help="Submit, inspect, list, cancel and watch tasks.", no_args_is_help=True)


# The client's own copies of the API's enums: it speaks the REST contract, not server code.
class Priority(enum.StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Status(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TaskIdArgument = Annotated[UUID, typer.Argument(help="The task's id.", show_default=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the JSON document instead.")]
Interval = Annotated[float, typer.Option(min=0.1, help="Seconds between two polls.")]


@tasks_app.command("submit")
def submit(
    task_type: Annotated[str, typer.Argument(help="e.g. countdown; see GET /task-types.")],
    name: Annotated[str | None, typer.Option(help="Defaults to the task type.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Defaults to the type's.")] = None,
    kwargs: Annotated[str | None, typer.Option("--kwargs", help="A JSON object.")] = None,
    kwarg: Annotated[
        list[str] | None,
        typer.Option("--kwarg", "-k", help="key=value (value as JSON if it parses); repeatable."),
    ] = None,
    args: Annotated[str | None, typer.Option("--args", help="A JSON array.")] = None,
    model_id: Annotated[UUID | None, typer.Option(help="The model the task is about.")] = None,
    concurrency_key: Annotated[
        str | None,
        typer.Option(help="Tasks of one key run at most the type's limit at once; the rest wait."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Start it at this time, with its offset: 2026-12-24T18:00+01:00."
        ),
    ] = None,
    in_: Annotated[
        str | None, typer.Option("--in", help="Start it after this long: 90s, 10m, 1h30m, 2d.")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Follow it until it ends.")] = False,
    interval: Interval = 0.5,
    as_json: JsonFlag = False,
) -> None:
    """Submit a task, now or later (--at, --in); with --watch, follow it and exit 0 only if
    it completes."""
    if at is not None and in_ is not None:
        raise typer.BadParameter("give --at or --in, not both", param_hint="--at/--in")
    body: dict[str, Any] = {
        "name": name or task_type,
        "task_type": task_type,
        "args": arguments.json_array(args, option="--args"),
        # -k pairs are applied over --kwargs, so one value can be changed without retyping all.
        "kwargs": arguments.json_object(kwargs, option="--kwargs")
        | arguments.pairs(kwarg, option="--kwarg"),
    }
    if priority is not None:
        body["priority"] = priority.value
    if model_id is not None:
        body["model_id"] = str(model_id)
    if concurrency_key is not None:
        body["concurrency_key"] = concurrency_key
    if at is not None:
        body["run_at"] = arguments.moment(at, option="--at")
    if in_ is not None:
        body["delay_seconds"] = arguments.duration_seconds(in_, option="--in")
    with reported_errors(), logged_in_client() as client:
        task = client.submit_task(body)
        if watch:  # exits with the task's outcome
            watch_until_done(client, UUID(task["id"]), interval=interval, as_json=as_json)
    if as_json:
        print_json(task)
    else:
        line = f"submitted {task['id']} ({task['task_type']}, {task['priority']} priority)"
        if task.get("run_at"):
            line += f", runs at {local_time(task['run_at'])}"
        typer.echo(shown(line))


@tasks_app.command("get")
def get(task_id: TaskIdArgument, as_json: JsonFlag = False) -> None:
    """Show one task: status, progress, arguments, result or error."""
    with reported_errors(), logged_in_client() as client:
        task = client.get_task(task_id)
    if as_json:
        print_json(task)
    else:
        console().print(task_detail(task))


@tasks_app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only tasks in this status.")] = None,
    task_type: Annotated[str | None, typer.Option(help="Only tasks of this type.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    model_id: Annotated[UUID | None, typer.Option(help="Only tasks about this model.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Tasks per page.")] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Follow next_cursor to the end.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List your tasks, newest first: one page, or every page with --all."""
    filters: dict[str, object] = {"status": status, "task_type": task_type, "priority": priority}
    filters |= {"model_id": model_id, "limit": limit}
    with reported_errors(), logged_in_client() as client:
        page = client.list_tasks(**filters)
        items = list(page["items"])
        while all_pages and page.get("next_cursor"):
            page = client.list_tasks(**filters, cursor=page["next_cursor"])
            items += page["items"]
    next_cursor = page.get("next_cursor")
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    if not items:
        typer.echo("no tasks")
        return
    print_table(task_table(items))
    if next_cursor:
        typer.echo("more tasks: add --all (or a larger --limit) to see them", err=True)


@tasks_app.command("cancel")
def cancel(task_id: TaskIdArgument, as_json: JsonFlag = False) -> None:
    """Cancel a pending or running task; a finished one cannot be (exit 1)."""
    with reported_errors(), logged_in_client() as client:
        task = client.cancel_task(task_id)
    if as_json:
        print_json(task)
    else:
        typer.echo(shown(f"task {task['id']} {task['status']}"))


@tasks_app.command("watch")
def watch(task_id: TaskIdArgument, interval: Interval = 0.5, as_json: JsonFlag = False) -> None:
    """Follow a task with a progress bar: exit 0 if it completes, 1 if it fails or is cancelled.

    Ctrl-C stops watching; the task goes on.
    """
    with reported_errors(), logged_in_client() as client:
        watch_until_done(client, task_id, interval=interval, as_json=as_json)


@tasks_app.command("attempts")
def attempts(task_id: TaskIdArgument, as_json: JsonFlag = False) -> None:
    """Every run the task had: outcome, worker, start, duration and error."""
    with reported_errors(), logged_in_client() as client:
        found = client.task_attempts(task_id)
    if as_json:
        print_json(found)
    elif not found["items"]:
        typer.echo("no attempt has ended yet")
    else:
        print_table(attempt_table(found["items"]))


_FINISHED = {"completed", "failed", "cancelled"}


@tasks_app.command("logs")
def logs(
    task_id: TaskIdArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the task ends.")
    ] = False,
    interval: Interval = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Print what the task's runs logged, oldest first; with --follow, new lines as they come,
    until the task has finished. Ctrl-C stops following; the task goes on."""
    with reported_errors(), logged_in_client() as client:
        printed = 0  # the last line's seq
        cursor: str | None = None
        while True:
            page = client.task_logs(task_id, cursor)
            for line in page["items"]:
                printed = max(printed, line["seq"])
                typer.echo(print_json_line(line) if as_json else log_line(line))
            cursor = page.get("next_cursor") or cursor
            if page["items"]:
                continue  # there may be more right away
            if not follow or page["task_status"] in _FINISHED:
                return
            try:
                printed = _follow_log_stream(client, task_id, printed, as_json=as_json)
                if printed < 0:
                    return  # the task ended and its stream said so
                time.sleep(interval)  # no stream to be had: poll
            except KeyboardInterrupt:
                return


def _follow_log_stream(client: ApiClient, task_id: UUID, printed: int, *, as_json: bool) -> int:
    """Print the lines the task's event stream brings, after line `printed`, until the task
    ends (-1). Lines logged between the last page read and the stream's start come from a
    page read once the stream is open, so none is missed or printed twice. Returns the last
    line printed when the stream cannot be had or breaks (the caller polls then)."""
    import httpx

    try:
        events = client.task_event_stream(task_id)
        for kind, data in events:
            if kind == "log":
                lines = data["lines"]
            elif kind == "status":
                # The first event (the current state), or a change: read what the stream
                # may have missed before it started, then follow the stream alone.
                lines = _lines_after(client, task_id, printed)
                if data["status"] in _FINISHED:
                    for line in lines:
                        typer.echo(print_json_line(line) if as_json else log_line(line))
                    return -1
            else:
                continue
            for line in lines:
                if line["seq"] > printed:
                    printed = line["seq"]
                    typer.echo(print_json_line(line) if as_json else log_line(line))
    except httpx.HTTPError:
        return printed
    return -1


def _lines_after(client: ApiClient, task_id: UUID, seq: int) -> list[dict[str, Any]]:
    """Every stored line after line `seq` (a log page's cursor is the seq of its last line)."""
    lines: list[dict[str, Any]] = []
    cursor: str | None = str(seq) if seq else None
    while True:
        page = client.task_logs(task_id, cursor)
        lines += page["items"]
        if not page["items"] or not page.get("next_cursor"):
            return lines
        cursor = page["next_cursor"]


def print_json_line(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=True)


@tasks_app.command("retry")
def retry(task_id: TaskIdArgument, as_json: JsonFlag = False) -> None:
    """Run a failed or cancelled task again, as a new task; prints the new task's id."""
    with reported_errors(), logged_in_client() as client:
        task = client.retry_task(task_id)
    if as_json:
        print_json(task)
    else:
        typer.echo(shown(f"task {task['id']} {task['status']} (re-runs {task_id})"))
