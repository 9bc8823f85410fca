"""`taskhub tasks watch` and `submit --watch` following tasks a real worker runs."""

from __future__ import annotations

import hashlib
import json
import signal
import time

from tests.integration.client.conftest import Api, Cli

WATCH_TIMEOUT = 60.0


def wait_for_status(cli: Cli, task_id: str, status: str, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = json.loads(cli.run("tasks", "get", task_id, "--json").stdout)
        if task["status"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} never became {status}")


def long_task(cli: Cli) -> str:
    submitted = cli.run("tasks", "submit", "countdown", "-k", "seconds=60", "-k", "steps=60")
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.split()[1]
    wait_for_status(cli, task_id, "running")
    return task_id


def test_submit_watch_follows_the_task_to_completion_and_exits_0(logged_in: Cli) -> None:
    result = logged_in.run(
        "tasks", "submit", "countdown", "--kwargs", '{"seconds": 1, "steps": 4}', "--watch"
    )

    assert result.returncode == 0, result.stderr
    assert "100%" in result.stdout
    assert "completed" in result.stdout
    assert '"slept": 1' in result.stdout


def test_watching_a_task_that_is_cancelled_exits_1_saying_so(logged_in: Cli) -> None:
    task_id = long_task(logged_in)

    with logged_in.start("tasks", "watch", task_id, "--interval", "0.2") as watcher:
        cancelled = logged_in.run("tasks", "cancel", task_id)
        _, stderr = watcher.communicate(timeout=WATCH_TIMEOUT)

    assert cancelled.returncode == 0, cancelled.stderr
    assert watcher.returncode == 1
    assert f"task {task_id} was cancelled" in stderr


def test_cancelling_a_finished_task_is_refused_with_exit_1(logged_in: Cli) -> None:
    done = logged_in.run("tasks", "submit", "noop", "--watch", "--json")
    task_id = json.loads(done.stdout)["id"]

    result = logged_in.run("tasks", "cancel", task_id)

    assert result.returncode == 1
    assert "HTTP 409" in result.stderr


def test_ctrl_c_stops_watching_but_not_the_task(logged_in: Cli) -> None:
    task_id = long_task(logged_in)

    with logged_in.start("tasks", "watch", task_id) as watcher:
        time.sleep(1.0)  # past the interpreter's start, into the polling loop
        watcher.send_signal(signal.SIGINT)
        _, stderr = watcher.communicate(timeout=WATCH_TIMEOUT)
    still = json.loads(logged_in.run("tasks", "get", task_id, "--json").stdout)
    logged_in.run("tasks", "cancel", task_id)  # frees the worker for the next test

    assert watcher.returncode == 130
    assert "stopped watching" in stderr
    assert "Traceback" not in stderr
    assert still["status"] == "running"


def test_watch_json_keeps_stdout_one_document(logged_in: Cli) -> None:
    submitted = logged_in.run("tasks", "submit", "countdown", "-k", "seconds=0.2", "--json")
    task_id = json.loads(submitted.stdout)["id"]

    result = logged_in.run("tasks", "watch", task_id, "--json", "--interval", "0.1")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "completed"


def test_watching_a_task_that_fails_exits_1_with_its_error(logged_in: Cli) -> None:
    result = logged_in.run(
        "tasks", "submit", "file_checksum", "-k", "path=no-such-file.txt", "--watch"
    )

    assert result.returncode == 1
    assert "failed: UnreadableFileError: no-such-file.txt: no such file or directory" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_users_task_reads_their_own_folder_and_never_another_users(
    logged_in: Cli, api: Api, email: str
) -> None:
    mine, theirs = api.user_id(email), api.user_id(api.register())
    for owner, text in ((mine, "mine"), (theirs, "theirs")):
        (api.files / owner).mkdir(parents=True, exist_ok=True)
        (api.files / owner / "data.txt").write_text(text)

    own = logged_in.run("tasks", "submit", "file_checksum", "-k", "path=data.txt", "--watch")
    other = logged_in.run(
        "tasks", "submit", "file_checksum", "-k", f"path=../{theirs}/data.txt", "--watch"
    )

    assert own.returncode == 0, own.stderr
    assert hashlib.sha256(b"mine").hexdigest() in own.stdout
    assert other.returncode == 1
    assert f"OutsideFileAreaError: ../{theirs}/data.txt is outside the files area" in other.stderr
    assert str(api.files) not in other.stderr
