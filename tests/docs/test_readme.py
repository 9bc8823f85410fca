"""The README tells the truth: its five-minute tour, run as a reader would run it (its shell
block, as written, against a real API and worker), shows a task completing with its result
and another being cancelled; the make targets it offers exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.docs.processes import ROOT, logs, servers, stack_env, wait_until_ready
from tests.support.databases import migrated_database

TOUR_URL = "API=http://127.0.0.1:8000/api/v1"


def tour() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    return block.group(1)


@pytest.fixture
def env(tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    with migrated_database("sqlite", tmp_path) as database_url:
        yield stack_env(tmp_path, database_url, redis_url)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_the_tour_shows_a_task_completing_with_its_result_and_another_cancelled(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = tour()
    assert TOUR_URL in script

    with servers(env, tmp_path) as started, httpx.Client(timeout=10, trust_env=False) as http:
        api = wait_until_ready(http, started)
        ran = subprocess.run(  # noqa: S603 - the README's own commands, against our servers
            ["bash", "-c", script.replace(TOUR_URL, f"API={api}")],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        output = ran.stdout + ran.stderr
        assert ran.returncode == 0, f"{output}\n{logs(started)}"

    assert re.search(r"^running \d+% \d/3", output, flags=re.MULTILINE), output
    assert re.search(r"^completed 100% .*\{'slept': 6\.0\}$", output, flags=re.MULTILINE), output
    assert '"status": "cancelled"' in output, output
    assert '"items": [' in output, output  # the listing


def test_the_faster_make_targets_the_readme_offers_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    offered = re.findall(r"^\| `make (\w+)` \|", readme, flags=re.MULTILINE)
    defined = set(re.findall(r"^(\w+):", makefile, flags=re.MULTILINE))

    assert {"unit", "lint"} <= set(offered)
    assert set(offered) <= defined
    assert "`make test` is what CI runs" in readme
    assert re.search(r"so it takes about \d+ minutes", readme)  # how long, not just "long"


def workflow_tour() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Workflows: tasks that wait for each other", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    return block.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_the_workflow_tour_completes_a_pipeline_and_a_failing_middle_task_cancels_its_dependent(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = tour() + workflow_tour()  # the workflow section continues the tour's shell

    with servers(env, tmp_path) as started, httpx.Client(timeout=10, trust_env=False) as http:
        api = wait_until_ready(http, started)
        ran = subprocess.run(  # noqa: S603 - the README's own commands, against our servers
            ["bash", "-c", script.replace(TOUR_URL, f"API={api}")],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=env,
        )
        output = ran.stdout + ran.stderr
        assert ran.returncode == 0, f"{output}\n{logs(started)}"

    assert re.search(r"^running \d+% prepare:\w+ train-a:waiting", output, flags=re.MULTILINE)
    assert "completed 100% prepare:completed train-a:completed train-b:completed " in output
    assert "compare -> {'results': {'train-a': {'slept': 2.0}, 'train-b': {'slept': 3.0}}" in output
    assert "failed prepare:completed check:failed report:completed deploy:cancelled" in output, (
        output
    )
    assert "deploy -> UpstreamFailed: task 'check' failed" in output, output
