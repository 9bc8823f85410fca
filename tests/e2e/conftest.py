"""One running stack per test module, broker and database backend; process logs on failure.

Brokers: Redis (a leased database on the test Redis) and RabbitMQ (a virtual host of its
own on the server TASKHUB_TEST_AMQP_URL names; skipped, saying so, when it is unset).
Databases: SQLite and PostgreSQL. RabbitMQ runs on SQLite only: the database adapters do not
depend on the broker, and Redis x PostgreSQL covers them; the full matrix would double the
suite's time for no new path (see `pytest_collection_modifyitems`).

A module may override `worker_concurrency` (a module-scoped fixture) to start its worker
with fewer processes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from tests.e2e.api_client import ApiClient
from tests.e2e.broker import amqp_server_url, leased_redis_database, rabbitmq_vhost
from tests.e2e.stack import Stack, running_stack
from tests.support.databases import database_backends, migrated_database
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

_timings: list[tuple[str, str, float]] = []

BROKERS = [pytest.param("redis", id="redis"), pytest.param("rabbitmq", id="rabbitmq")]
# (broker, database) pairs not run; see the module docstring.
NOT_RUN = {("rabbitmq", "postgresql")}


@pytest.fixture(scope="module", params=database_backends())
def stack_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database on each backend; PostgreSQL skips (or fails) when not set up."""
    directory = tmp_path_factory.mktemp(f"db-{request.param}")
    with migrated_database(request.param, directory) as url:
        yield url


@pytest.fixture(scope="module", params=BROKERS)
def stack_broker(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a broker of the stack's own: a Redis database, or a RabbitMQ vhost."""
    if request.param == "rabbitmq":
        with rabbitmq_vhost(amqp_server_url()) as url:
            yield url
    else:
        with leased_redis_database(request.getfixturevalue("redis_url")) as url:
            yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        pair = (params.get("stack_broker"), params.get("stack_database"))
        (dropped if pair in NOT_RUN else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="module")
def worker_concurrency() -> int:
    return 2


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    stack_database: str,
    stack_broker: str,
    worker_concurrency: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """API, worker and Beat on this module's database and a broker of its own."""
    directory = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with running_stack(
        database_url=stack_database,
        broker_url=stack_broker,
        directory=directory,
        concurrency=worker_concurrency,
    ) as started:
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
