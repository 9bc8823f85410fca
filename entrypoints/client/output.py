"""How the client shows tasks and errors: rich tables for people, plain JSON for scripts."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from entrypoints.client.errors import LOGIN_HINT, ClientError, ProblemError

# rich is imported by the functions that print: the server processes import this module with
# the rest of the command line, and never print a table.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

STATUS_STYLES = {
    "waiting": "blue",
    "pending": "yellow",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "magenta",
}


# Marks that reorder what follows them on screen: "txt.exe" can be made to read "exe.txt".
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def shown(value: object, *, keep: str = "") -> str:
    """`value` as text safe to put on a terminal: control characters (escape sequences that
    could move the cursor, recolour or rewrite what another user's task printed) and bidi
    controls are replaced by their visible \\uXXXX escape, which is valid JSON as well.
    Everything the API returns passes through here before it is printed."""
    text = str(value)
    return "".join(
        f"\\u{ord(c):04x}"
        if c not in keep and (unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS)
        else c
        for c in text
    )


def _json(data: Any, *, indent: int | None = None) -> str:
    # json.dumps escapes C0 controls itself; DEL, C1 and bidi controls it leaves raw.
    return shown(json.dumps(data, indent=indent, ensure_ascii=False), keep="\n")


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    # Built per call, not at import, so it writes to whatever sys.stdout is now (tests swap it).
    return Console(stderr=stderr, highlight=False)


def print_json(data: Any) -> None:
    # Plain echo, not rich: scripts parse this, and rich would wrap long lines.
    typer.echo(_json(data, indent=2))


def print_error(message: str) -> None:
    from rich.text import Text

    # soft_wrap: one line per message, so it can be grepped; the terminal wraps it for people.
    line = Text("error: ", style="bold red") + Text(shown(message))
    console(stderr=True).print(line, soft_wrap=True)


def print_warning(message: str) -> None:
    from rich.text import Text

    line = Text("warning: ", style="bold yellow") + Text(shown(message))
    console(stderr=True).print(line, soft_wrap=True)


def print_problem(problem: ProblemError, *, hint: str | None = None) -> None:
    from rich.text import Text

    lines = Text(f"error: {shown(problem.title)}", style="bold red")
    lines.append(f" (HTTP {problem.status})", style="red")
    # A domain error repeats its detail as its one field error; say it once.
    if problem.detail and [e.message for e in problem.errors] != [problem.detail]:
        lines.append(f"\n  {shown(problem.detail)}")
    for error in problem.errors:
        lines.append("\n  - ")
        lines.append(shown(error.field or "(request)"), style="bold")
        lines.append(f": {shown(error.message)}")
    if hint:
        lines.append(f"\n  {hint}")
    console(stderr=True).print(lines, soft_wrap=True)


def status_text(status: str) -> Text:
    from rich.text import Text

    return Text(shown(status), style=STATUS_STYLES.get(status, ""))


def local_time(value: str | None, *, shown: str = "%Y-%m-%d %H:%M:%S") -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime(shown)


def task_table(tasks: list[dict[str, Any]]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

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
            Text(shown(task["id"])),
            Text(shown(task["name"])),  # Text, so a name like "[red]" is shown, not rendered
            Text(shown(task["task_type"])),
            status_text(task["status"]),
            Text(shown(task["priority"])),
            f"{task['progress']}%",
            local_time(task["created_at"], shown="%m-%d %H:%M"),
        )
    return table


def print_table(table: Table) -> None:
    from rich.console import Console
    from rich.measure import Measurement

    out = console()
    if not out.is_terminal:
        # Piped output is for grep and awk: whole lines, not cut to an assumed 80 columns.
        natural = Measurement.get(out, out.options.update(width=10_000), table).maximum
        out = Console(highlight=False, width=natural)
    out.print(table)


def attempt_table(attempts: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("#", "outcome", "worker", "started", "seconds", "error"):
        table.add_column(column)
    for attempt in attempts:
        error = attempt.get("error")
        worker = f"{attempt.get('worker_host') or '-'}:{attempt.get('worker_pid') or '-'}"
        seconds = attempt.get("duration_seconds")
        table.add_row(
            str(attempt["number"]),
            status_text(attempt["outcome"]),
            Text(shown(worker)),
            local_time(attempt.get("started_at")) or "-",
            f"{seconds:.3f}" if seconds is not None else "-",
            Text(shown(f"{error['type']}: {error['message']}")) if error else "",
        )
    return table


def log_line(line: dict[str, Any]) -> str:
    """One line of a task's log as `taskhub tasks logs` prints it."""
    when = local_time(line["logged_at"])
    return shown(
        f"{when} #{line['attempt']} {line['level'].upper():<8} {line['message']}", keep="\n"
    )


def task_detail(task: dict[str, Any]) -> Table:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    progress = f"{shown(task['progress'])}%"
    if task.get("progress_message"):
        progress += f"  {shown(task['progress_message'])}"
    rows: list[tuple[str, str | Text]] = [
        ("id", Text(shown(task["id"]))),
        ("name", Text(shown(task["name"]))),
        ("type", Text(shown(task["task_type"]))),
        ("status", status_text(task["status"])),
        *([("waiting", Text(shown(waiting_text(task["waiting"]))))] if task.get("waiting") else []),
        ("priority", Text(shown(f"{task['priority']} (queue {task['queue']})"))),
        ("progress", Text(progress)),
        ("attempts", f"{task['attempts']} of {task['max_attempts']}"),
        ("created", local_time(task["created_at"])),
        ("started", local_time(task.get("started_at")) or "-"),
        ("finished", local_time(task.get("completed_at")) or "-"),
        ("args", Text(_json(task["args"]))),
        ("kwargs", Text(_json(task["kwargs"]))),
    ]
    if task.get("result") is not None:
        rows.append(("result", Text(_json(task["result"], indent=2))))
    if task.get("error"):
        error = task["error"]
        rows.append(("error", Text(shown(f"{error['type']}: {error['message']}"))))
        if error.get("traceback"):
            rows.append(("traceback", Text(shown(error["traceback"], keep="\n"))))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def waiting_text(waiting: dict[str, Any]) -> str:
    """What a pending task waits for, in a few words: `concurrency: 1 of 1 running
    (countdown:eu)`, `queued: 3 ahead in default`, `delayed until 12:00:05`."""
    reason = str(waiting.get("reason"))
    if reason == "concurrency":
        return (
            f"concurrency: {waiting.get('holders')} of {waiting.get('limit')} running "
            f"({waiting.get('concurrency_key')})"
        )
    if reason == "queued" and waiting.get("position") is not None:
        return f"queued: {waiting['position']} ahead in {waiting.get('queue')}"
    if reason == "delayed":
        return f"delayed until {local_time(waiting.get('until'))}"
    if reason == "fair_share":
        return (
            f"fair share: queue {waiting.get('queue')} is crowded; "
            f"{waiting.get('position')} of your own ahead"
        )
    if reason == "rate_limit":
        return f"rate limit {waiting.get('rate_limit')}: {waiting.get('position')} ahead"
    return reason


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


def schedule_when(schedule: dict[str, Any]) -> str:
    """'cron 0 2 * * * (Europe/Paris)' or 'every 600 s'."""
    if schedule.get("cron"):
        return f"cron {schedule['cron']} ({schedule.get('timezone') or 'UTC'})"
    return f"every {schedule['interval_seconds']} s"


def schedule_table(schedules: list[dict[str, Any]]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("name", overflow="fold", min_width=8, max_width=40)
    table.add_column("when", overflow="fold")
    table.add_column("type", overflow="fold", min_width=6)
    table.add_column("state", overflow="fold")
    table.add_column("runs", no_wrap=True, justify="right")
    table.add_column("next fire", overflow="fold")
    for schedule in schedules:
        table.add_row(
            Text(shown(schedule["id"])),
            Text(shown(schedule["name"])),
            Text(shown(schedule_when(schedule))),
            Text(shown(schedule["task"]["task_type"])),
            "paused" if schedule["paused"] else "active",
            str(schedule["runs"]),
            local_time(schedule.get("next_fire_at")) or "-",
        )
    return table


def schedule_detail(schedule: dict[str, Any]) -> Table:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    task = schedule["task"]
    rows: list[tuple[str, str | Text]] = [
        ("id", Text(shown(schedule["id"]))),
        ("name", Text(shown(schedule["name"]))),
        ("when", Text(shown(schedule_when(schedule)))),
        ("state", "paused" if schedule["paused"] else "active"),
        ("task", Text(shown(f"{task['task_type']} {_json(task['kwargs'])}"))),
        ("overlap", Text(shown(schedule["overlap"]))),
        ("catch up", Text(shown(schedule["catch_up"]))),
        (
            "runs",
            f"{schedule['runs']}"
            + (f" of {schedule['max_runs']}" if schedule.get("max_runs") else ""),
        ),
    ]
    upcoming = schedule.get("next_fire_times") or []
    rows.append(("next fires", "\n".join(local_time(t) for t in upcoming) or "-"))
    for run in schedule.get("last_runs") or []:
        line = Text(f"{shown(run['task_id'])} ")
        line.append_text(status_text(run["status"]))
        rows.append(("run", line))
    for label, value in rows:
        grid.add_row(label, value)
    return grid
