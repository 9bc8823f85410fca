"""The API caps glibc's malloc arenas, unless the operator chose a number, and returns freed
memory to the operating system while it works."""

from __future__ import annotations

import os
import platform
import time

import pytest

from entrypoints.malloc_arenas import ENV, FreedMemoryReturner, cap_malloc_arenas


def test_an_operators_setting_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "8")

    assert cap_malloc_arenas() is False
    assert os.environ[ENV] == "8"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt arenas are glibc's")
def test_on_glibc_the_cap_applies_and_is_passed_on_to_child_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV, raising=False)

    assert cap_malloc_arenas(limit=2) is True
    assert os.environ[ENV] == "2"


def _work_for(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        [str(n) for n in range(1000)]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_memory_is_returned_while_the_process_works() -> None:
    returner = FreedMemoryReturner(interval=0.05)
    assert returner.available
    returner.start()
    try:
        _work_for(0.4)
    finally:
        returner.stop()

    assert returner.trims >= 2


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_an_idle_process_is_not_trimmed() -> None:
    returner = FreedMemoryReturner(interval=0.05)
    returner.start()
    try:
        time.sleep(0.4)
    finally:
        returner.stop()

    assert returner.trims == 0
