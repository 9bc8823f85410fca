"""`taskhub schedules ...`: create, list, show, pause, resume, trigger and delete recurring
schedules through the REST API."""

from __future__ import annotations

import enum
from typing import Annotated, Any
from uuid import UUID

import typer

from entrypoints.client import arguments
from entrypoints.client.commands import JsonFlag, Priority
from entrypoints.client.output import (
    console,
    print_json,
    print_table,
    reported_errors,
    schedule_detail,
    schedule_table,
    schedule_when,
    shown,
)
from entrypoints.client.session import logged_in_client

schedules_app = typer.Typer(
    help="Recurring tasks: by cron expression or interval.", no_args_is_help=True
)


# The client's own copies of the API's enums: it speaks the REST contract, not server code.
class Overlap(enum.StrEnum):
    ALLOW = "allow"
    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    CANCEL_PREVIOUS = "cancel_previous"


class CatchUp(enum.StrEnum):
    NONE = "none"
    LATEST = "latest"


ScheduleIdArgument = Annotated[UUID, typer.Argument(help="The schedule's id.", show_default=False)]


@schedules_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The schedule's name.")],
    task_type: Annotated[str, typer.Argument(help="e.g. countdown; see GET /task-types.")],
    cron: Annotated[
        str | None, typer.Option(help="A cron expression, e.g. '*/15 * * * *'.")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="The cron's IANA zone, e.g. Europe/Paris (UTC if none).")
    ] = None,
    every: Annotated[
        str | None, typer.Option(help="An interval instead of a cron: 90s, 10m, 1h, 2d.")
    ] = None,
    task_name: Annotated[
        str | None, typer.Option(help="Each run's name; the type's if none.")
    ] = None,
    priority: Annotated[Priority | None, typer.Option(help="Defaults to the type's.")] = None,
    kwargs: Annotated[str | None, typer.Option("--kwargs", help="A JSON object.")] = None,
    kwarg: Annotated[
        list[str] | None,
        typer.Option("--kwarg", "-k", help="key=value (value as JSON if it parses); repeatable."),
    ] = None,
    start_at: Annotated[str | None, typer.Option(help="First fire no earlier than this.")] = None,
    end_at: Annotated[str | None, typer.Option(help="No fire after this.")] = None,
    max_runs: Annotated[int | None, typer.Option(min=1, help="Stop after this many runs.")] = None,
    overlap: Annotated[
        Overlap | None, typer.Option(help="While the previous run is unfinished (default skip).")
    ] = None,
    catch_up: Annotated[
        CatchUp | None, typer.Option(help="Fires missed while down: none, or run the latest.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a schedule: --cron (with --timezone) or --every."""
    if (cron is None) == (every is None):
        raise typer.BadParameter(
            "give --cron or --every (one of them)", param_hint="--cron/--every"
        )
    task: dict[str, Any] = {
        "name": task_name or task_type,
        "task_type": task_type,
        "kwargs": arguments.json_object(kwargs, option="--kwargs")
        | arguments.pairs(kwarg, option="--kwarg"),
    }
    if priority is not None:
        task["priority"] = priority.value
    body: dict[str, Any] = {"name": name, "task": task}
    if cron is not None:
        body["cron"] = cron
        if timezone is not None:
            body["timezone"] = timezone
    if every is not None:
        seconds = arguments.duration_seconds(every, option="--every")
        if seconds != int(seconds) or seconds < 1:
            raise typer.BadParameter("must be whole seconds, at least 1", param_hint="--every")
        body["interval_seconds"] = int(seconds)
    optional: dict[str, Any] = {
        "start_at": start_at and arguments.moment(start_at, option="--start-at"),
        "end_at": end_at and arguments.moment(end_at, option="--end-at"),
        "max_runs": max_runs,
        "overlap": overlap and overlap.value,
        "catch_up": catch_up and catch_up.value,
    }
    body |= {key: value for key, value in optional.items() if value is not None}
    with reported_errors(), logged_in_client() as client:
        schedule = client.create_schedule(body)
    if as_json:
        print_json(schedule)
    else:
        line = f"created schedule {schedule['id']} ({schedule_when(schedule)})"
        typer.echo(shown(line))


@schedules_app.command("list")
def list_(
    limit: Annotated[int | None, typer.Option(min=1, help="Schedules per page.")] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Follow next_cursor to the end.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List your schedules: one page, or every page with --all."""
    with reported_errors(), logged_in_client() as client:
        page = client.list_schedules(limit=limit)
        items = list(page["items"])
        while all_pages and page.get("next_cursor"):
            page = client.list_schedules(limit=limit, cursor=page["next_cursor"])
            items += page["items"]
    next_cursor = page.get("next_cursor")
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    if not items:
        typer.echo("no schedules")
        return
    print_table(schedule_table(items))
    if next_cursor:
        typer.echo("more schedules: add --all (or a larger --limit) to see them", err=True)


@schedules_app.command("get")
def get(schedule_id: ScheduleIdArgument, as_json: JsonFlag = False) -> None:
    """Show one schedule: its next five fire times and its latest runs."""
    with reported_errors(), logged_in_client() as client:
        schedule = client.get_schedule(schedule_id)
    if as_json:
        print_json(schedule)
    else:
        console().print(schedule_detail(schedule))


def _state_change(schedule_id: UUID, action: str, as_json: bool) -> None:
    with reported_errors(), logged_in_client() as client:
        schedule = client.schedule_action(schedule_id, action)
    if as_json:
        print_json(schedule)
    else:
        state = "paused" if schedule["paused"] else "active"
        typer.echo(shown(f"schedule {schedule['id']} {state}"))


@schedules_app.command("pause")
def pause(schedule_id: ScheduleIdArgument, as_json: JsonFlag = False) -> None:
    """Stop firing until resumed."""
    _state_change(schedule_id, "pause", as_json)


@schedules_app.command("resume")
def resume(schedule_id: ScheduleIdArgument, as_json: JsonFlag = False) -> None:
    """Fire again from the next fire time on (what passed while paused is not owed)."""
    _state_change(schedule_id, "resume", as_json)


@schedules_app.command("trigger")
def trigger(schedule_id: ScheduleIdArgument, as_json: JsonFlag = False) -> None:
    """One run now, whatever the overlap rule."""
    with reported_errors(), logged_in_client() as client:
        fire = client.schedule_action(schedule_id, "trigger")
    if as_json:
        print_json(fire)
    elif fire.get("task_id"):
        typer.echo(shown(f"triggered task {fire['task_id']}"))
    else:
        typer.echo(shown(f"not run: {fire['outcome']} ({fire.get('reason')})"))


@schedules_app.command("delete")
def delete(schedule_id: ScheduleIdArgument) -> None:
    """Delete a schedule; the runs it made stay."""
    with reported_errors(), logged_in_client() as client:
        client.delete_schedule(schedule_id)
    typer.echo(shown(f"deleted schedule {schedule_id}"))
