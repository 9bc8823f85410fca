"""What the CLI prints of the API's answers carries no terminal control sequence: a task
name, error or progress message cannot recolour, move the cursor or rewrite the screen of
whoever lists the tasks (an admin's `taskhub tasks list` shows everyone's)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from entrypoints.client.errors import FieldError, ProblemError
from entrypoints.client.output import console as make_console
from entrypoints.client.output import (
    print_error,
    print_json,
    print_problem,
    print_table,
    shown,
    task_detail,
    task_table,
    waiting_text,
)

# Clear the screen, home the cursor, then a fake line; C1 CSI; a bidi override; DEL; bell.
HOSTILE = "\x1b[2J\x1b[H\x1b[31mroot: rm -rf /\x1b[0m \x9b31m \u202eexe.txt \x7f\x07"


def hostile_task() -> dict[str, Any]:
    return {
        "id": "3f1c7a0e-9a53-4b57-9d2b-6a8f7a3c9b10",
        "name": HOSTILE,
        "task_type": "noop",
        "status": "failed",
        "priority": "normal",
        "queue": "default",
        "progress": 40,
        "progress_message": HOSTILE,
        "attempts": 1,
        "max_attempts": 3,
        "created_at": "2026-12-01T10:00:00+00:00",
        "started_at": None,
        "completed_at": None,
        "args": [HOSTILE],
        "kwargs": {"path": HOSTILE},
        "result": {"echo": HOSTILE},
        "error": {"type": "ValueError", "message": HOSTILE},
    }


def controls_in(text: str) -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c != "\n" and (unicodedata.category(c) == "Cc" or c == "\u202e")
    ]


def test_a_task_list_shows_control_characters_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(task_table([hostile_task()]))

    out = capsys.readouterr().out
    assert controls_in(out) == []
    assert "\\u001b[2J" in out


def test_a_task_in_detail_shows_control_characters_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_console().print(task_detail(hostile_task()))

    assert controls_in(capsys.readouterr().out) == []


def test_errors_and_problems_on_stderr_show_control_characters_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_error(HOSTILE)
    print_problem(
        ProblemError(
            status=422, title=HOSTILE, detail=HOSTILE, errors=[FieldError(HOSTILE, HOSTILE)]
        )
    )

    assert controls_in(capsys.readouterr().err) == []


def test_json_output_stays_valid_and_the_same_data_without_raw_controls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = hostile_task()

    print_json(task)

    out = capsys.readouterr().out
    assert controls_in(out) == []
    assert json.loads(out) == task


def test_plain_text_and_other_scripts_are_shown_as_they_are() -> None:
    assert shown("résumé 数据 [red]x[/]") == "résumé 数据 [red]x[/]"


def test_a_pending_task_in_detail_says_what_it_waits_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = {
        **hostile_task(),
        "status": "pending",
        "waiting": {
            "reason": "concurrency",
            "queue": "default",
            "concurrency_key": f"countdown:{HOSTILE}",
            "holders": 1,
            "limit": 1,
        },
    }

    make_console().print(task_detail(task))

    out = capsys.readouterr().out
    assert "concurrency: 1 of 1 running" in out
    assert controls_in(out) == []


@pytest.mark.parametrize(
    ("waiting", "said"),
    [
        (
            {"reason": "fair_share", "queue": "default", "position": 3},
            "fair share: queue default is crowded; 3 of your own ahead",
        ),
        (
            {"reason": "rate_limit", "queue": "default", "position": 7, "rate_limit": "10/s"},
            "rate limit 10/s: 7 ahead",
        ),
    ],
)
def test_a_task_held_for_its_fair_share_or_a_rate_limit_says_so(
    waiting: dict[str, Any], said: str
) -> None:
    assert waiting_text(waiting) == said
