"""The API caps glibc's malloc arenas, unless the operator chose a number."""

from __future__ import annotations

import os
import platform

import pytest

from entrypoints.malloc_arenas import ENV, cap_malloc_arenas


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
