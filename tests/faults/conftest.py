"""Fault and race tests: each breaks only servers it started itself, stops every process it
started, and reports the figures it saw (printed, and summed up at the end of the run).

Figures: tasks submitted, completed, failed, lost (must be 0), duplicates (must be 0), and
recovery seconds (from the fault to the last task settled), plus whatever else a test counts.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack
from tests.faults.journal import Journal
from tests.support.redis_server import RedisServer

Figures = dict[str, float | int | str]
RecordFigures = Callable[..., None]

_figures: list[tuple[str, Figures]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> RecordFigures:
    """`figures(submitted=20, completed=19, ...)`: printed now, listed again at session end."""

    def record(**seen: float | int | str) -> None:
        name = request.node.name
        _figures.append((name, seen))
        print(f"[fault figures] {name}: {_format(seen)}")

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _figures:
        terminalreporter.section("fault figures")
        for name, seen in _figures:
            terminalreporter.write_line(f"{name}: {_format(seen)}")


def _format(seen: Figures) -> str:
    return ", ".join(
        f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in seen.items()
    )


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """The module's own broker, on a free loopback port: the one a test may break."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.log")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[Any]:
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Stack):
                report.sections.append(("fault stack process logs (tails)", value.log_report()))
    return report
