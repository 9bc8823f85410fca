"""The worked example end to end, as docs/adding-a-task-type.md tells a user to run it.

A real API and a real worker (`python -m entrypoints.cli api|worker`), both with
TASKHUB_TASK_MODULES=examples.word_count, on a migrated SQLite database and the test Redis.
Every process started here is stopped on the way out, whatever happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docs.processes import (
    RUN_TIMEOUT,
    TERMINAL,
    log_in,
    logs,
    poll,
    servers,
    stack_env,
    wait_until_ready,
)
from tests.support.databases import migrated_database

POEM = "The cat sat\non the mat.\n\nThe mat was the cat's; don't ask."


@pytest.fixture
def env(tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    with migrated_database("sqlite", tmp_path) as database_url:
        yield stack_env(
            tmp_path, database_url, redis_url, TASKHUB_TASK_MODULES="examples.word_count"
        )


def test_word_count_runs_end_to_end_through_the_api_and_a_worker(
    env: dict[str, str], tmp_path: Path
) -> None:
    with servers(env, tmp_path) as started, httpx.Client(timeout=10, trust_env=False) as http:
        api = wait_until_ready(http, started)
        auth = log_in(http, api)

        types = http.get(f"{api}/task-types", headers=auth).json()
        refused = http.post(
            f"{api}/tasks",
            headers=auth,
            json={"name": "both", "task_type": "word_count", "kwargs": {"text": "a", "lines": []}},
        )
        submitted = http.post(
            f"{api}/tasks",
            headers=auth,
            json={"name": "count a poem", "task_type": "word_count", "kwargs": {"text": POEM}},
        )
        assert submitted.status_code == 201, submitted.text
        task_id = submitted.json()["id"]

        def finished() -> dict[str, Any] | None:
            task: dict[str, Any] = http.get(f"{api}/tasks/{task_id}", headers=auth).json()
            return task if task["status"] in TERMINAL else None

        task = poll(
            finished, timeout=RUN_TIMEOUT, what="the task to finish", logs=lambda: logs(started)
        )

        assert "word_count" in str(types), types
        assert refused.status_code == 422
        assert "kwargs.lines" in refused.text
        assert task["status"] == "completed", f"{task}\n{logs(started)}"
        assert task["progress"] == 100
        assert task["attempts"] == 1
        assert task["result"]["lines"] == 4
        assert task["result"]["words"] == 13
        assert task["result"]["most_common"][0] == {"word": "the", "count": 4}
