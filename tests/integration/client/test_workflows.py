"""`taskhub workflows ...` against a real API and worker: a YAML workflow followed to its end,
a failing middle task cancelling exactly its dependents, list, get and cancel."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.client.conftest import Cli, no_traceback

PIPELINE_YAML = """
name: nightly pipeline
tasks:
  - key: prepare
    name: prepare data
    task_type: countdown
    kwargs: {seconds: 0.4, steps: 2}
  - {key: train-a, name: train a, task_type: noop, depends_on: [prepare]}
  - key: train-b
    name: train b
    task_type: countdown
    kwargs: {seconds: 0.2}
    depends_on: [prepare]
  - {key: compare, name: compare, task_type: gather, depends_on: [train-a, train-b]}
"""


def test_submit_watch_follows_a_yaml_workflow_to_completion_as_a_tree(
    logged_in: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE_YAML)

    result = logged_in.run("workflows", "submit", str(path), "--watch", "--interval", "0.2")

    assert result.returncode == 0, result.stderr
    assert "nightly pipeline completed 100%" in result.stdout
    assert "compare completed 100% (also after train-b)" in result.stdout
    listed = json.loads(logged_in.run("workflows", "list", "--json").stdout)
    workflow = json.loads(
        logged_in.run("workflows", "get", listed["items"][0]["id"], "--json").stdout
    )
    compare = {t["key"]: t for t in workflow["tasks"]}["compare"]
    assert compare["result"] == {
        "results": {"train-a": None, "train-b": {"slept": 0.2}},
        "not_completed": [],
    }


def test_a_failing_middle_task_cancels_exactly_its_dependents(
    logged_in: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "failing.json"
    path.write_text(
        json.dumps(
            {
                "name": "failing middle",
                "tasks": [
                    {"key": "prepare", "name": "prepare", "task_type": "noop"},
                    {
                        "key": "check",
                        "name": "check",
                        "task_type": "file_checksum",
                        "kwargs": {"path": "no-such-file.bin"},
                        "depends_on": ["prepare"],
                    },
                    {
                        "key": "deploy",
                        "name": "deploy",
                        "task_type": "noop",
                        "depends_on": ["check"],
                    },
                    {"key": "side", "name": "side", "task_type": "noop", "depends_on": ["prepare"]},
                ],
            }
        )
    )

    result = logged_in.run("workflows", "submit", str(path), "--watch", "--interval", "0.2")

    assert result.returncode == 1, result.stderr
    assert no_traceback(result)
    listed = json.loads(logged_in.run("workflows", "list", "--status", "failed", "--json").stdout)
    workflow = listed["items"][0]
    tasks = {t["key"]: t for t in workflow["tasks"]}
    assert {k: t["status"] for k, t in tasks.items()} == {
        "prepare": "completed",
        "check": "failed",
        "side": "completed",
        "deploy": "cancelled",
    }
    # Cancelled, not run: no traceback of its own (task history added the field).
    assert tasks["deploy"]["error"] == {
        "type": "UpstreamFailed",
        "message": "task 'check' failed",
        "traceback": None,
    }


def test_cancel_stops_a_running_workflow_and_a_bad_file_is_refused_without_traceback(
    logged_in: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(
        "name: long\ntasks:\n"
        "  - {key: a, name: a, task_type: countdown, kwargs: {seconds: 60}}\n"
        "  - {key: b, name: b, task_type: noop, depends_on: [a]}\n"
    )
    submitted = logged_in.run("workflows", "submit", str(path), "--json")
    workflow_id = json.loads(submitted.stdout)["id"]

    cancelled = logged_in.run("workflows", "cancel", workflow_id)

    assert cancelled.returncode == 0, cancelled.stderr
    assert f"workflow {workflow_id} cancelled" in cancelled.stdout
    cycle = tmp_path / "cycle.yaml"
    cycle.write_text("name: c\ntasks:\n  - {key: a, name: a, task_type: noop, depends_on: [a]}\n")
    refused = logged_in.run("workflows", "submit", str(cycle))
    assert refused.returncode == 1
    assert "tasks[0].depends_on" in refused.stderr
    assert no_traceback(refused)
