"""`taskhub tasks submit | get | list | cancel` against the real API."""

from __future__ import annotations

import json

from tests.integration.client.conftest import Cli, no_traceback


def submit(cli: Cli, *args: str) -> dict[str, object]:
    result = cli.run("tasks", "submit", *args, "--json")
    assert result.returncode == 0, result.stderr
    task: dict[str, object] = json.loads(result.stdout)
    return task


def test_a_submitted_task_can_be_read_and_listed(logged_in: Cli) -> None:
    submitted = submit(
        logged_in, "countdown", "--name", "first task", "--priority", "high", "-k", "seconds=0"
    )

    got = logged_in.run("tasks", "get", str(submitted["id"]), "--json")
    shown = logged_in.run("tasks", "get", str(submitted["id"]))
    listed = logged_in.run("tasks", "list", "--json")
    table = logged_in.run("tasks", "list", "--task-type", "countdown")

    assert json.loads(got.stdout)["id"] == submitted["id"]
    assert submitted["name"] == "first task"
    assert submitted["priority"] == "high"
    assert submitted["kwargs"]["seconds"] == 0  # type: ignore[index]
    assert "first task" in shown.stdout
    assert [t["id"] for t in json.loads(listed.stdout)["items"]] == [submitted["id"]]
    assert str(submitted["id"]) in table.stdout
    assert "first task" in table.stdout


def test_submit_without_json_prints_the_new_id(logged_in: Cli) -> None:
    result = logged_in.run("tasks", "submit", "countdown", "--kwargs", '{"seconds": 0}')

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("submitted ")
    assert "countdown, normal priority" in result.stdout


def test_list_all_follows_the_cursor_through_every_page(logged_in: Cli) -> None:
    ids = {submit(logged_in, "noop", "--priority", "low")["id"] for _ in range(3)}

    one_page = logged_in.run("tasks", "list", "--limit", "2", "--json")
    every_page = logged_in.run("tasks", "list", "--limit", "1", "--all", "--json")

    assert len(json.loads(one_page.stdout)["items"]) == 2
    assert json.loads(one_page.stdout)["next_cursor"]
    assert {t["id"] for t in json.loads(every_page.stdout)["items"]} == ids
    assert json.loads(every_page.stdout)["next_cursor"] is None


def test_list_filters_by_status_and_priority(logged_in: Cli) -> None:
    low = submit(logged_in, "noop", "--priority", "low")

    by_priority = logged_in.run("tasks", "list", "--priority", "low", "--json")
    by_status = logged_in.run("tasks", "list", "--status", "failed", "--json")

    assert [t["id"] for t in json.loads(by_priority.stdout)["items"]] == [low["id"]]
    assert json.loads(by_status.stdout)["items"] == []


def test_a_bad_keyword_argument_exits_1_naming_the_field(logged_in: Cli) -> None:
    result = logged_in.run("tasks", "submit", "countdown", "-k", "seconds=-1")

    assert result.returncode == 1
    assert "kwargs.seconds" in result.stderr
    assert "HTTP 422" in result.stderr
    assert no_traceback(result)


def test_malformed_json_is_a_usage_error_before_any_request(logged_in: Cli) -> None:
    result = logged_in.run("tasks", "submit", "countdown", "--kwargs", "{seconds: 1}")

    assert result.returncode == 2
    assert "not valid JSON" in result.stderr


def test_an_unknown_task_is_a_problem_not_a_traceback(logged_in: Cli) -> None:
    result = logged_in.run("tasks", "get", "00000000-0000-0000-0000-000000000000")

    assert result.returncode == 1
    assert "HTTP 404" in result.stderr
    assert no_traceback(result)


def test_logs_follow_prints_each_line_once_in_order_as_the_task_logs_it(logged_in: Cli) -> None:
    task = submit(logged_in, "narrated_sleep", "-k", "lines=8", "-k", "seconds=2")

    # Started while the task runs: the lines already logged come from the log's pages, the
    # rest from the task's event stream, which ends with the task.
    followed = logged_in.run("tasks", "logs", str(task["id"]), "--follow", "--json")

    assert followed.returncode == 0, followed.stderr
    lines = [json.loads(line) for line in followed.stdout.splitlines()]
    assert [line["message"] for line in lines] == [f"step {n} of 8" for n in range(1, 9)]
    assert [line["seq"] for line in lines] == list(range(1, 9))
