"""`taskhub workflows ...`: submit a workflow from a JSON or YAML file and follow it as a
live tree, get, list and cancel workflows through the REST API."""

from __future__ import annotations

import enum
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from uuid import UUID

import typer

from entrypoints.client.api_client import ApiClient
from entrypoints.client.errors import ClientError
from entrypoints.client.output import (
    STATUS_STYLES,
    console,
    local_time,
    print_json,
    print_table,
    reported_errors,
    shown,
    status_text,
)
from entrypoints.client.session import logged_in_client

# rich and PyYAML are imported where they are used, as in output.py.
if TYPE_CHECKING:
    from rich.tree import Tree

workflows_app = typer.Typer(
    help="Submit workflows (tasks with dependencies) and follow, list or cancel them.",
    no_args_is_help=True,
)

TERMINAL = frozenset({"completed", "failed", "cancelled"})
INTERRUPTED = 130


class Status(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


WorkflowIdArgument = Annotated[UUID, typer.Argument(help="The workflow's id.", show_default=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the JSON document instead.")]


def read_workflow_file(path: Path) -> dict[str, Any]:
    """The workflow a JSON or YAML file describes (YAML is a superset of JSON)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    try:
        body = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ClientError(f"{path} is neither valid JSON nor valid YAML: {exc}") from None
    if not isinstance(body, dict):
        raise ClientError(f"{path} must hold an object with name and tasks")
    return body


def workflow_tree(workflow: dict[str, Any]) -> Tree:
    """The workflow as a tree: each task under the first task it depends on (the others
    named after it), with its status and progress."""
    from rich.text import Text
    from rich.tree import Tree

    head = Text(shown(workflow["name"]) + " ") + status_text(workflow["status"])
    tree = Tree(head + Text(f" {workflow['progress']}%"))
    nodes: dict[str, Tree] = {}
    for task in workflow["tasks"]:  # topological order: parents come first
        parents = task.get("depends_on") or []
        line = Text(shown(task["key"]) + " ", style="bold") + status_text(task["status"])
        line += Text(f" {task['progress']}%")
        if len(parents) > 1:
            line += Text(" (also after " + ", ".join(shown(p) for p in parents[1:]) + ")", "dim")
        if task.get("error"):
            line += Text(f" {shown(task['error']['type'])}: {shown(task['error']['message'])}")
        parent = nodes.get(parents[0]) if parents else None
        nodes[task["key"]] = (parent or tree).add(line)
    return tree


def watch_workflow(client: ApiClient, workflow_id: UUID, *, interval: float) -> NoReturn:
    """Redraw the tree until the workflow ends; exit 0 if it completed, 1 if not."""
    from rich.live import Live

    workflow = client.get_workflow(workflow_id)
    try:
        with Live(workflow_tree(workflow), console=console(), auto_refresh=False) as live:
            while workflow["status"] not in TERMINAL:
                time.sleep(interval)
                workflow = client.get_workflow(workflow_id)
                live.update(workflow_tree(workflow), refresh=True)
    except KeyboardInterrupt:
        typer.echo(f"stopped watching; workflow {workflow_id} goes on", err=True)
        raise typer.Exit(INTERRUPTED) from None
    raise typer.Exit(0 if workflow["status"] == "completed" else 1)


@workflows_app.command("submit")
def submit(
    file: Annotated[Path, typer.Argument(help="A JSON or YAML file: name, tasks, on_failure.")],
    watch: Annotated[bool, typer.Option("--watch", help="Follow it as a live tree.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only check it and show the plan.")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 0.5,
    as_json: JsonFlag = False,
) -> None:
    """Submit a workflow; with --watch, follow it and exit 0 only if it completes."""
    with reported_errors(), logged_in_client() as client:
        body = read_workflow_file(file)
        workflow = client.submit_workflow(body, dry_run=dry_run)
        if watch and not dry_run:
            watch_workflow(client, UUID(workflow["id"]), interval=interval)
    if as_json or dry_run:
        print_json(workflow)
    else:
        typer.echo(shown(f"submitted workflow {workflow['id']} ({len(workflow['tasks'])} tasks)"))


@workflows_app.command("get")
def get(
    workflow_id: WorkflowIdArgument,
    watch: Annotated[bool, typer.Option("--watch", help="Follow it as a live tree.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show a workflow as a tree of its tasks with their status and progress."""
    with reported_errors(), logged_in_client() as client:
        if watch:
            watch_workflow(client, workflow_id, interval=0.5)
        workflow = client.get_workflow(workflow_id)
    if as_json:
        print_json(workflow)
    else:
        console().print(workflow_tree(workflow))


@workflows_app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only workflows in this status.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Workflows per page.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List your workflows, newest first (one page)."""
    from rich.table import Table
    from rich.text import Text

    with reported_errors(), logged_in_client() as client:
        page = client.list_workflows(status=status, limit=limit)
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        typer.echo("no workflows")
        return
    table = Table("id", "name", "status", "progress", "tasks", "created")
    for w in page["items"]:
        style = STATUS_STYLES.get(w["status"], "default")
        table.add_row(
            shown(w["id"]),
            shown(w["name"]),
            Text(shown(w["status"]), style),
            f"{w['progress']}%",
            str(len(w["tasks"])),
            local_time(w["created_at"]),
        )
    print_table(table)


@workflows_app.command("cancel")
def cancel(workflow_id: WorkflowIdArgument, as_json: JsonFlag = False) -> None:
    """Cancel every unfinished task of a workflow; a finished one cannot be (exit 1)."""
    with reported_errors(), logged_in_client() as client:
        workflow = client.cancel_workflow(workflow_id)
    if as_json:
        print_json(workflow)
    else:
        typer.echo(shown(f"workflow {workflow['id']} {workflow['status']}"))
