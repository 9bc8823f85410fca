"""One running stack per test module and database backend, and process logs on failure.

A module may override `worker_concurrency` (a module-scoped fixture) to start its worker
with fewer processes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from tests.e2e.api_client import ApiClient
from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack, running_stack
from tests.support.databases import database_backends, migrated_database
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

_timings: list[tuple[str, str, float]] = []


@pytest.fixture(scope="module", params=database_backends())
def stack_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database on each backend; PostgreSQL skips (or fails) when not set up."""
    directory = tmp_path_factory.mktemp(f"db-{request.param}")
    with migrated_database(request.param, directory) as url:
        yield url


@pytest.fixture(scope="module")
def worker_concurrency() -> int:
    return 2


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    stack_database: str,
    redis_url: str,
    worker_concurrency: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """API, worker and Beat on this module's database and a Redis database of its own."""
    directory = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with (
        leased_redis_database(redis_url) as broker_url,
        running_stack(
            database_url=stack_database,
            broker_url=broker_url,
            directory=directory,
            concurrency=worker_concurrency,
        ) as started,
    ):
        yield started


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[ApiClient]:
    """A registered user's client, with a bearer token, on the stack's API."""
    with stack.client().sign_up() as api:
        yield api


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[Any]:
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("e2e process logs (tails)", stack.log_report()))
    return report


@pytest.fixture
def record_timing(request: pytest.FixtureRequest) -> Callable[[str, float], None]:
    """Keeps a measured duration for the summary at the end of the run."""

    def record(what: str, seconds: float) -> None:
        _timings.append((request.node.nodeid, what, seconds))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _timings:
        terminalreporter.section("e2e timings")
        for nodeid, what, seconds in _timings:
            terminalreporter.write_line(f"{seconds:7.2f}s  {what}  ({nodeid.rsplit('::', 1)[-1]})")
