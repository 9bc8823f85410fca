"""Running a call that might hang, so that a hang fails the test instead of the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest


def run_within(seconds: float, call: Callable[[], Any]) -> tuple[float, BaseException | None]:
    """Run `call`, failing the test if it has not returned after `seconds`.

    A daemon thread, so a call that hangs forever (the bug this guards against) fails the
    test instead of hanging the run. Returns the elapsed time and what the call raised.
    """
    outcome: dict[str, BaseException | None] = {"error": None}

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s")
    return time.monotonic() - started, outcome["error"]
