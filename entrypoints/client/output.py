"""How the client shows tasks and errors: rich tables for people, plain JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from entrypoints.client.errors import LOGIN_HINT, ClientError, ProblemError

STATUS_STYLES = {
    "pending": "yellow",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "magenta",
}


def console(*, stderr: bool = False) -> Console:
    # Built per call, not at import, so it writes to whatever sys.stdout is now (tests swap it).
    return Console(stderr=stderr, highlight=False)


def print_json(data: Any) -> None:
    # Plain echo, not rich: scripts parse this, and rich would wrap long lines.
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_error(message: str) -> None:
    # soft_wrap: one line per message, so it can be grepped; the terminal wraps it for people.
    console(stderr=True).print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def print_warning(message: str) -> None:
    line = Text("warning: ", style="bold yellow") + Text(message)
    console(stderr=True).print(line, soft_wrap=True)


def print_problem(problem: ProblemError, *, hint: str | None = None) -> None:
    lines = Text(f"error: {problem.title}", style="bold red")
    lines.append(f" (HTTP {problem.status})", style="red")
    # A domain error repeats its detail as its one field error; say it once.
    if problem.detail and [e.message for e in problem.errors] != [problem.detail]:
        lines.append(f"\n  {problem.detail}")
    for error in problem.errors:
        lines.append("\n  - ")
        lines.append(error.field or "(request)", style="bold")
        lines.append(f": {error.message}")
    if hint:
        lines.append(f"\n  {hint}")
    console(stderr=True).print(lines, soft_wrap=True)


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def local_time(value: str | None, *, shown: str = "%Y-%m-%d %H:%M:%S") -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime(shown)


def task_table(tasks: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    # Ids are copied into the next command, so they are never cut; the rest folds if it must.
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("name", overflow="fold", min_width=8, max_width=40)
    table.add_column("type", overflow="fold", min_width=6)
    table.add_column("status", overflow="fold")
    table.add_column("priority", overflow="fold")
    table.add_column("progress", no_wrap=True, justify="right")
    # Month and day are enough at a glance; `tasks get` shows the full time.
    table.add_column("created", overflow="fold")
    for task in tasks:
        table.add_row(
            Text(str(task["id"])),
            Text(str(task["name"])),  # Text, so a name like "[red]" is shown, not rendered
            Text(str(task["task_type"])),
            status_text(task["status"]),
            task["priority"],
            f"{task['progress']}%",
            local_time(task["created_at"], shown="%m-%d %H:%M"),
        )
    return table


def print_table(table: Table) -> None:
    out = console()
    if not out.is_terminal:
        # Piped output is for grep and awk: whole lines, not cut to an assumed 80 columns.
        natural = Measurement.get(out, out.options.update(width=10_000), table).maximum
        out = Console(highlight=False, width=natural)
    out.print(table)


def task_detail(task: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    progress = f"{task['progress']}%"
    if task.get("progress_message"):
        progress += f"  {task['progress_message']}"
    rows: list[tuple[str, str | Text]] = [
        ("id", str(task["id"])),
        ("name", Text(str(task["name"]))),
        ("type", str(task["task_type"])),
        ("status", status_text(task["status"])),
        ("priority", f"{task['priority']} (queue {task['queue']})"),
        ("progress", Text(progress)),
        ("attempts", f"{task['attempts']} of {task['max_attempts']}"),
        ("created", local_time(task["created_at"])),
        ("started", local_time(task.get("started_at")) or "-"),
        ("finished", local_time(task.get("completed_at")) or "-"),
        ("args", Text(json.dumps(task["args"]))),
        ("kwargs", Text(json.dumps(task["kwargs"]))),
    ]
    if task.get("result") is not None:
        rows.append(("result", Text(json.dumps(task["result"], indent=2))))
    if task.get("error"):
        rows.append(("error", Text(f"{task['error']['type']}: {task['error']['message']}")))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


@contextmanager
def reported_errors(*, login_hint: bool = True) -> Iterator[None]:
    """Turn a client error into a message on stderr and exit code 1, never a traceback."""
    try:
        yield
    except ProblemError as problem:
        # 401 on a stored token means it was refused (revoked user, rotated key): log in again.
        hint = f"{LOGIN_HINT} again" if login_hint and problem.status == 401 else None
        print_problem(problem, hint=hint)
        raise typer.Exit(1) from None
    except ClientError as error:
        print_error(error.message)
        raise typer.Exit(1) from None
