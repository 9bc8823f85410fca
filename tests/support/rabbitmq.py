"""RabbitMQ for tests: the server TASKHUB_TEST_AMQP_URL names, a virtual host per user.

Each user (an e2e stack, an integration module) gets a new virtual host with its own
exchanges and queues (`rabbitmqctl add_vhost`, so the server must run on this machine),
deleted with everything in it at the end. Without the variable the tests skip, saying why;
with TASKHUB_TEST_REQUIRE_SERVICES=1 a missing or unreachable server fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
from kombu import Connection

from tests.support.redis_server import REQUIRE_SERVICES_ENV, services_required

AMQP_URL_ENV = "TASKHUB_TEST_AMQP_URL"
VHOST_PREFIX = "th_test_"
RABBITMQCTL_TIMEOUT = 30.0


def amqp_server_url() -> str:
    """TASKHUB_TEST_AMQP_URL once its server answered; skips (or fails) the test otherwise."""
    url = os.environ.get(AMQP_URL_ENV)
    if not url:
        _unavailable(
            f"set {AMQP_URL_ENV} (e.g. amqp://guest:guest@127.0.0.1:5672/) to run on RabbitMQ"
        )
    if shutil.which("rabbitmqctl") is None:
        _unavailable("rabbitmqctl is not on PATH: it creates the tests' virtual hosts")
    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=5)
    except Exception as exc:  # any failure means "not usable", whatever the transport raised
        _unavailable(f"RabbitMQ at {without_password(url)} does not answer: {type(exc).__name__}")
    return url


@contextmanager
def rabbitmq_vhost(server_url: str) -> Iterator[str]:
    """The URL of a new, empty virtual host on `server_url`'s server, deleted on the way out
    with every exchange, queue and message in it."""
    parts = urlsplit(server_url)
    name = f"{VHOST_PREFIX}{uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, parts.username or "guest", ".*", ".*", ".*")
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        rabbitmqctl("delete_vhost", name)


def vhost_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "/"


def rabbitmqctl(*arguments: str) -> str:
    """Runs `rabbitmqctl --quiet ARGUMENTS` (as the user running the tests); its output."""
    completed = subprocess.run(  # noqa: S603 - fixed program, our own arguments
        ["rabbitmqctl", "--quiet", *arguments],  # noqa: S607 - found on PATH, checked above
        capture_output=True,
        text=True,
        timeout=RABBITMQCTL_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl {' '.join(arguments)} failed ({completed.returncode}): "
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )
    return completed.stdout


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _unavailable(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1)", pytrace=False)
    pytest.skip(reason)
