"""taskhub's own use cases, run in the benchmark's process: users, tokens, and queueing many
tasks fast (SubmitTaskBatch) onto a staging Redis database nobody consumes yet."""

from __future__ import annotations

from itertools import count
from typing import Any

from dependency_injector import providers
from sqlalchemy import func, select

from adapters.sqlalchemy.tables import TaskRow
from application.submission import TaskSubmission
from bench.environment import Broker
from bench.stack import SECRET_KEY, TASKHUB_STAGING_DB
from config.settings import Settings
from domain.user import User
from entrypoints.api_container import ApiContainer

PASSWORD = "benchmark password 0123456789"  # noqa: S105 - a throwaway account's
BATCH = 500
_numbers = count(1)


class TaskhubClient:
    def __init__(self, database_url: str, broker: Broker) -> None:
        settings = Settings(
            environment="test",
            database_url=database_url,
            broker_url=broker.url(TASKHUB_STAGING_DB),
            secret_key=SECRET_KEY,
            bcrypt_rounds=4,
            max_active_tasks_per_user=10**9,
        )
        self.container = ApiContainer()
        self.container.core.settings.override(providers.Object(settings))

    def new_user(self, label: str = "bench") -> tuple[User, str]:
        """A fresh account and a bearer token for it: each run counts only its own tasks."""
        email = f"{label}-{next(_numbers)}@bench.example.com"
        user = self.container.core.register_user().execute(email=email, password=PASSWORD)
        return user, self.container.core.token_service().issue(user.id, user.token_version).token

    def stage_noops(self, user: User, n: int) -> None:
        """Store `n` pending noop tasks and publish them to the staging database."""
        submit = self.container.core.submit_task_batch()
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            submit.execute(user, [TaskSubmission(name="bench", task_type="noop")] * size)

    def stage_keyed_countdowns(self, user: User, n: int, keys: int) -> None:
        """Store `n` pending countdown(0) tasks spread over `keys` concurrency keys (limit 1
        each); the first of each key is published to the staging database, the rest held.
        With no keys, every task is published."""
        submit = self.container.core.submit_task_batch()
        tasks = [
            TaskSubmission(
                name="bench",
                task_type="countdown",
                kwargs={"seconds": 0, "steps": 1},
                concurrency_key=f"key-{i % keys}" if keys else None,
            )
            for i in range(n)
        ]
        for start in range(0, n, BATCH):
            submit.execute(user, tasks[start : start + BATCH])

    def count(self, user: User, status: str) -> int:
        statement = select(func.count()).where(TaskRow.user_id == user.id, TaskRow.status == status)
        with self.container.core.engine().connect() as connection:
            return int(connection.scalar(statement) or 0)

    def status(self, task_id: Any) -> str | None:
        statement = select(TaskRow.status).where(TaskRow.id == task_id)
        with self.container.core.engine().connect() as connection:
            status: str | None = connection.scalar(statement)
            return status

    def started_at(self, task_ids: list[Any]) -> dict[str, float]:
        statement = select(TaskRow.id, TaskRow.started_at).where(TaskRow.id.in_(task_ids))
        with self.container.core.engine().connect() as connection:
            return {str(i): s.timestamp() for i, s in connection.execute(statement) if s}

    def close(self) -> None:
        self.container.core.engine().dispose()
