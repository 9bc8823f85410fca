"""A `rediss://` broker URL: taskhub publishes to a Redis that speaks TLS only, checking its
certificate against a CA of the test's own (ssl_cert_reqs=required), and refuses a server
whose certificate it cannot check."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from adapters.celery.dispatcher import CeleryTaskDispatcher
from adapters.celery.topology import create_celery_app
from tests.factories import make_task
from tests.support.certificates import IssuedCertificate, certificate_for_loopback
from tests.support.redis_server import HOST, free_port


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, IssuedCertificate]]:
    """A redis-server of this test's own, TLS only on a free port (no plain port)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server binary to run with TLS")
    issued = certificate_for_loopback(tmp_path)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server, our arguments
        [
            server,
            "--port", "0",
            "--tls-port", str(port),
            "--bind", HOST,
            "--tls-cert-file", str(issued.cert_path),
            "--tls-key-file", str(issued.key_path),
            "--tls-ca-cert-file", str(issued.ca_path),
            "--tls-auth-clients", "no",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = redis.Redis(host=HOST, port=port, ssl=True, ssl_ca_certs=str(issued.ca_path))
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.skip(f"this redis-server does not serve TLS: {output[-300:]}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        client.close()
        yield port, issued
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_rediss_broker_url_publishes_over_tls_checking_the_servers_certificate(
    tls_redis: tuple[int, IssuedCertificate],
) -> None:
    port, issued = tls_redis
    url = f"rediss://{HOST}:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={issued.ca_path}"
    app: Celery = create_celery_app(broker_url=url, visibility_timeout=3600)
    task = make_task(task_type="noop")

    CeleryTaskDispatcher(app).enqueue([task])

    reader = redis.Redis.from_url(url)  # the event channel and the leases read the same URL
    assert reader.llen("default") == 1
    assert str(task.id).encode() in reader.lindex("default", 0)
    reader.close()


def test_a_server_whose_certificate_no_trusted_ca_signed_is_refused(
    tls_redis: tuple[int, IssuedCertificate], tmp_path: Path
) -> None:
    port, _ = tls_redis
    other = tmp_path / "other"
    other.mkdir()
    stranger = certificate_for_loopback(other)
    url = f"rediss://{HOST}:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={stranger.ca_path}"

    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        redis.Redis.from_url(url).ping()
