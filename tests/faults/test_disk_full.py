"""The disk under the SQLite database fills up: writes fail, and readiness says so, naming
the cause, instead of answering 200 while every submission fails. Then space comes back and
so does the API.

The database lives on a small tmpfs of the test's own (mounting needs root, as in CI).
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy.migrate import upgrade_database
from tests.faults.conftest import RecordFigures
from tests.faults.stack import FaultStack
from tests.support.redis_server import RedisServer, services_required

DISK_BYTES = 16 * 1024 * 1024
SUBMISSIONS = 200  # at most, until one fails for want of space


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mount = shutil.which("mount") or "/bin/mount"
    mounted = subprocess.run(  # noqa: S603 - our own arguments
        [mount, "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs (root needed): {mounted.stderr.strip()}"
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        umount = shutil.which("umount") or "/bin/umount"
        subprocess.run([umount, "-l", str(mount_point)], check=False)  # noqa: S603


def fill(disk: Path) -> Path:
    """Writes a file until the disk refuses another byte; returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 1):  # big chunks, then the last bytes one by one
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    with pytest.raises(OSError, match="No space left on device") as refused:
        (disk / "probe").write_bytes(b"x" * 4096)
    assert refused.value.errno == errno.ENOSPC
    return filler


def test_a_full_disk_makes_readiness_503_naming_the_cause_and_space_brings_it_back(
    small_disk: Path, redis_server: RedisServer, tmp_path: Path, figures: RecordFigures
) -> None:
    database_url = f"sqlite:///{small_disk / 'taskhub.db'}"
    upgrade_database(database_url)
    stack = FaultStack(database_url=database_url, broker_url=redis_server.url, directory=tmp_path)
    try:
        stack.start_api()
        ready = f"{stack.api_url}/api/v1/health/ready"
        with stack.client().sign_up() as client:
            filler = fill(small_disk)
            answers = []
            for _ in range(SUBMISSIONS):
                response = client.http.post(
                    "/tasks", json={"name": "n", "task_type": "noop", "kwargs": {}}
                )
                answers.append(response.status_code)
                if response.status_code != 201:
                    break
            full = httpx.get(ready, timeout=10, trust_env=False)

            filler.unlink()
            again = httpx.get(ready, timeout=10, trust_env=False)
            after = client.http.post(
                "/tasks", json={"name": "n", "task_type": "noop", "kwargs": {}}
            )
    finally:
        stack.stop()

    figures(
        submitted_while_full=len(answers),
        accepted_while_full=answers.count(201),
        ready_while_full=full.status_code,
        ready_database_check=full.json()["checks"]["database"],
        ready_after=again.status_code,
    )
    assert answers[-1] == 503, answers  # the writes did fail: the test is about that
    assert full.status_code == 503, full.text
    assert "disk full" in full.json()["checks"]["database"]
    assert full.json()["checks"]["broker"] == "ok"
    assert again.status_code == 200, again.text
    assert after.status_code == 201, after.text
