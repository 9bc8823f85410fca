"""A task with a secret argument, run for real (API, worker and Beat on SQLite and Redis):
the worker signs with the secret, and the secret is nowhere to be read afterwards: not in
the database file, any API answer, any line the processes logged, or any command the broker
was sent."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.api_client import ApiClient
from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack
from tests.support.databases import migrated_database

SECRET = "object-store-key-5f1c9e7a2b"
MASK = "********"


class BrokerTap:
    """Every command the Redis server executes while the tap runs (MONITOR), as text."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self._monitor = self._client.monitor()
        self._connection = self._monitor.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for command in self._connection.listen():
                self.commands.append(str(command.get("command", "")))
        except (redis.ConnectionError, ValueError, AttributeError, OSError):
            pass  # the tap was closed

    def close(self) -> None:
        self._monitor.__exit__(None, None, None)
        self._client.close()


@pytest.fixture
def stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    files = tmp_path / "files"
    files.mkdir()
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        stack = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path)
        try:
            stack.start_api(TASKHUB_LOG_LEVEL="DEBUG")
            stack.start_worker(TASKHUB_FILES_ROOT=str(files), TASKHUB_LOG_LEVEL="DEBUG")
            stack.start_beat()
            yield stack
        finally:
            stack.stop()


def test_a_secret_argument_reaches_the_run_and_nothing_else(stack: Stack, tmp_path: Path) -> None:
    tap = BrokerTap(stack.broker_url)
    answers: list[str] = []
    try:
        with stack.client().sign_up() as client:
            owner_files = tmp_path / "files" / client.user_id  # each owner's folder
            owner_files.mkdir()
            (owner_files / "model.bin").write_bytes(b"weights " * 1000)
            submitted = client.submit("file_signature", path="model.bin", key=SECRET)
            answers.append(str(submitted))
            done = client.wait_for_status(submitted["id"], "completed", timeout=60)
            answers.extend(every_answer_about(client, submitted["id"]))
    finally:
        tap.close()

    expected = hmac.new(SECRET.encode(), b"weights " * 1000, hashlib.sha256).hexdigest()
    assert done["result"]["signature"] == expected  # the worker had the secret
    assert submitted["kwargs"]["key"] == MASK
    assert done["kwargs"] == {"path": "model.bin", "key": MASK}
    assert any(submitted["id"] in command for command in tap.commands)  # the tap saw the task
    assert not [a for a in answers if SECRET in a]
    assert not [c for c in tap.commands if SECRET in c]
    assert not [p.name for p in stack.processes if SECRET in p.log_text()]
    for stored in tmp_path.glob("taskhub.db*"):  # the database and its WAL
        assert SECRET.encode() not in stored.read_bytes(), stored.name


def every_answer_about(client: ApiClient, task_id: str) -> Iterator[str]:
    """The task as each read of the API shows it."""
    for path in (
        f"/tasks/{task_id}",
        "/tasks",
        f"/tasks/{task_id}/attempts",
        f"/tasks/{task_id}/logs",
        f"/tasks/{task_id}/result",
    ):
        response = client.http.get(path)
        assert response.status_code == 200, (path, response.text)
        yield response.text
    # A finished task's stream: its current state, then the stream ends.
    yield client.http.get(f"/tasks/{task_id}/events").text
