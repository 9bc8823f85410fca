"""A team's task types as a package of their own, the route docs/adding-a-task-type.md
recommends for production: examples/acme-stats is pip-installed into a folder of its own,
its own tests pass against taskhub, and a real API and worker with that folder on their path,
and TASKHUB_TASK_MODULES unset, list and run its task type (found by its entry point)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docs.processes import (
    ROOT,
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

PACKAGE = ROOT / "examples" / "acme-stats"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package installed as pip installs it, from a copy (the build writes beside it)."""
    work = tmp_path_factory.mktemp("acme-stats")
    source = work / "source"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = work / "site-packages"
    result = subprocess.run(  # noqa: S603 - pip of this interpreter, on our own example
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",  # offline: the dev environment's setuptools builds it
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_the_packages_own_tests_pass_with_it_installed(site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}

    result = subprocess.run(  # noqa: S603 - pytest of this interpreter
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PACKAGE / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


@pytest.fixture
def env(tmp_path: Path, redis_url: str, site: Path) -> Iterator[dict[str, str]]:
    with migrated_database("sqlite", tmp_path) as database_url:
        env = stack_env(tmp_path, database_url, redis_url)
        env["PYTHONPATH"] = f"{site}{os.pathsep}{env['PYTHONPATH']}"
        assert "TASKHUB_TASK_MODULES" not in env
        yield env


def test_an_installed_package_runs_through_the_api_and_a_worker(
    env: dict[str, str], tmp_path: Path
) -> None:
    with servers(env, tmp_path) as started, httpx.Client(timeout=10, trust_env=False) as http:
        api = wait_until_ready(http, started)
        auth = log_in(http, api)

        types = {t["name"]: t for t in http.get(f"{api}/task-types", headers=auth).json()}
        refused = http.post(
            f"{api}/tasks",
            headers=auth,
            json={"name": "text", "task_type": "describe_numbers", "kwargs": {"values": ["2"]}},
        )
        submitted = http.post(
            f"{api}/tasks",
            headers=auth,
            json={"name": "four", "task_type": "describe_numbers", "kwargs": {"values": [1, 4]}},
        )
        assert submitted.status_code == 201, submitted.text
        task_id = submitted.json()["id"]

        def finished() -> dict[str, Any] | None:
            task: dict[str, Any] = http.get(f"{api}/tasks/{task_id}", headers=auth).json()
            return task if task["status"] in TERMINAL else None

        task = poll(
            finished, timeout=RUN_TIMEOUT, what="the task to finish", logs=lambda: logs(started)
        )

    schema = types["describe_numbers"]["arguments_schema"]
    assert schema["description"].startswith("The numbers to describe.")
    assert schema["properties"]["values"]["maxItems"] == 2500
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["kwargs.values.0"]
    assert task["status"] == "completed", f"{task}\n{logs(started)}"
    assert task["result"] == {"count": 2, "mean": 2.5, "stdev": 1.5, "min": 1.0, "max": 4.0}
