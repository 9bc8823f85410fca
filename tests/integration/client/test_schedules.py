"""`taskhub schedules create | list | get | pause | resume | trigger | delete` and
`taskhub tasks submit --at | --in` against the real API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests.integration.client.conftest import Cli, no_traceback


def run_json(cli: Cli, *args: str) -> Any:
    result = cli.run(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def create(cli: Cli, *args: str) -> dict[str, Any]:
    schedule: dict[str, Any] = run_json(cli, "schedules", "create", *args)
    return schedule


def test_a_cron_schedule_is_created_listed_and_shown_with_its_next_fire_times(
    logged_in: Cli,
) -> None:
    schedule = create(
        logged_in,
        "nightly",
        "countdown",
        "--cron",
        "0 2 * * *",
        "--timezone",
        "Europe/Paris",
        "-k",
        "seconds=0",
        "--overlap",
        "buffer_one",
    )

    listed = run_json(logged_in, "schedules", "list")
    table = logged_in.run("schedules", "list")
    shown = logged_in.run("schedules", "get", schedule["id"])

    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Paris")
    assert schedule["overlap"] == "buffer_one"
    assert schedule["task"]["kwargs"] == {"seconds": 0}
    assert [s["id"] for s in listed["items"]] == [schedule["id"]]
    assert schedule["id"] in table.stdout
    assert "cron 0 2 * * * (Europe/Paris)" in table.stdout
    assert "next fires" in shown.stdout
    assert len(run_json(logged_in, "schedules", "get", schedule["id"])["next_fire_times"]) == 5


def test_an_interval_given_as_a_duration_is_sent_in_seconds(logged_in: Cli) -> None:
    schedule = create(logged_in, "hourly", "noop", "--every", "1h")

    assert schedule["interval_seconds"] == 3600


def test_pause_resume_trigger_and_delete(logged_in: Cli) -> None:
    schedule_id = create(logged_in, "nightly", "noop", "--cron", "0 2 * * *")["id"]

    paused = logged_in.run("schedules", "pause", schedule_id)
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.strip() == f"schedule {schedule_id} paused"
    assert run_json(logged_in, "schedules", "resume", schedule_id)["paused"] is False

    fire = run_json(logged_in, "schedules", "trigger", schedule_id)
    task = run_json(logged_in, "tasks", "get", fire["task_id"])
    assert (fire["outcome"], fire["reason"]) == ("fired", "manual")
    assert task["schedule_id"] == schedule_id

    deleted = logged_in.run("schedules", "delete", schedule_id)
    assert deleted.returncode == 0, deleted.stderr
    gone = logged_in.run("schedules", "get", schedule_id)
    assert gone.returncode == 1
    assert "404" in gone.stderr
    assert no_traceback(gone)


def test_an_invalid_cron_is_reported_naming_the_field(logged_in: Cli) -> None:
    result = logged_in.run("schedules", "create", "bad", "noop", "--cron", "61 * * * *")

    assert result.returncode == 1
    assert "cron" in result.stderr
    assert no_traceback(result)
    assert run_json(logged_in, "schedules", "list")["items"] == []


def test_create_needs_exactly_one_of_cron_and_every(logged_in: Cli) -> None:
    neither = logged_in.run("schedules", "create", "x", "noop")
    both = logged_in.run("schedules", "create", "x", "noop", "--cron", "* * * * *", "--every", "1m")

    assert neither.returncode == both.returncode == 2
    assert "--cron" in neither.stderr
    assert no_traceback(both)


def test_a_task_submitted_with_at_waits_until_that_time(logged_in: Cli) -> None:
    task = run_json(logged_in, "tasks", "submit", "noop", "--at", "2026-12-24T18:00+01:00")
    line = logged_in.run("tasks", "submit", "noop", "--at", "2026-12-24T18:00+01:00")

    assert datetime.fromisoformat(task["run_at"]) == datetime.fromisoformat(
        "2026-12-24T17:00:00+00:00"
    )
    assert task["status"] == "pending"
    assert "runs at" in line.stdout


def test_a_task_submitted_with_in_runs_that_long_from_now(logged_in: Cli) -> None:
    before = datetime.now().astimezone()
    task = run_json(logged_in, "tasks", "submit", "noop", "--in", "10m")

    run_at = datetime.fromisoformat(task["run_at"])
    assert before + timedelta(minutes=10) <= run_at <= before + timedelta(minutes=11)


def test_at_without_an_offset_or_a_bad_duration_is_refused_before_any_request(
    logged_in: Cli,
) -> None:
    naive = logged_in.run("tasks", "submit", "noop", "--at", "2026-12-24T18:00")
    bad = logged_in.run("tasks", "submit", "noop", "--in", "ten minutes")
    both = logged_in.run("tasks", "submit", "noop", "--at", "2026-12-24T18:00Z", "--in", "1m")

    assert naive.returncode == bad.returncode == both.returncode == 2
    assert "offset" in naive.stderr
    assert "duration" in bad.stderr
    assert run_json(logged_in, "tasks", "list")["items"] == []
