"""Following one task to its end with a live progress bar, and reporting how it ended."""

from __future__ import annotations

import time
from typing import Any, NoReturn
from uuid import UUID

import typer

from entrypoints.client.api_client import ApiClient
from entrypoints.client.output import (
    STATUS_STYLES,
    console,
    print_error,
    print_json,
    shown,
    waiting_text,
)

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
INTERRUPTED = 130  # the shell's code for a Ctrl-C


def watch_until_done(
    client: ApiClient, task_id: UUID, *, interval: float, as_json: bool = False
) -> NoReturn:
    """Show the task until it ends; exit 0 if it completed, 1 if not, 130 on Ctrl-C."""
    from rich.text import Text

    try:
        # With --json the bar goes to stderr, so stdout stays one parseable document.
        task = _follow(client, task_id, interval=interval, stderr=as_json)
    except KeyboardInterrupt:
        # Watching is only looking: the task itself is left alone.
        typer.echo(
            f"stopped watching; task {task_id} goes on (`taskhub tasks cancel` stops it)", err=True
        )
        raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print_json(task)
    elif task["status"] == "completed":
        console().print(
            Text(f"task {shown(task['id'])} ") + Text("completed", "green"), "; result:"
        )
        print_json(task["result"])
    elif task["status"] == "failed":
        error = task.get("error") or {}
        print_error(f"task {task['id']} failed: {error.get('type')}: {error.get('message')}")
    else:
        print_error(f"task {task['id']} was cancelled")
    raise typer.Exit(0 if task["status"] == "completed" else 1)


def _follow(client: ApiClient, task_id: UUID, *, interval: float, stderr: bool) -> dict[str, Any]:
    import httpx
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    task = client.get_task(task_id)
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[status]}"),
        TextColumn("{task.fields[message]}", markup=False),
        TimeElapsedColumn(),
        console=console(stderr=stderr),
    )
    with progress:
        bar = progress.add_task(shown(task["name"]), total=100, **_fields(task))
        try:
            # The event stream first: each change as it happens, no polling.
            for task in client.task_events(task_id):
                progress.update(bar, **_fields(task))
        except httpx.HTTPError:
            pass  # an API without streams, or a proxy that buffers them: poll instead
        while task["status"] not in TERMINAL_STATUSES:
            time.sleep(interval)
            task = client.get_task(task_id)
            progress.update(bar, **_fields(task))
    return task


def _fields(task: dict[str, Any]) -> dict[str, Any]:
    status = task["status"]
    style = STATUS_STYLES.get(status, "default")  # an unknown status is no markup to trust
    return {
        "completed": task["progress"],
        "status": f"[{style}]{shown(status) if status in STATUS_STYLES else 'unknown'}[/]",
        "message": shown(
            waiting_text(task["waiting"])
            if task.get("waiting")
            else task.get("progress_message") or ""
        ),
    }
