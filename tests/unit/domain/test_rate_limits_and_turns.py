"""Rate limits as task types write them, their even spacing, and the fair-share round-robin
carried from one release round to the next."""

from __future__ import annotations

import pytest

from domain.errors import ValidationError
from domain.flow import FairShareTurns, RateLimit, ReleaseWindows, starvation_bound


@pytest.mark.parametrize(
    ("text", "count", "period"), [("10/s", 10, 1.0), ("100/m", 100, 60.0), (" 5/h ", 5, 3600.0)]
)
def test_a_rate_limit_is_a_count_per_second_minute_or_hour(
    text: str, count: int, period: float
) -> None:
    limit = RateLimit.parse(text)

    assert (limit.count, limit.period_seconds) == (count, period)
    assert str(limit) == text.strip()


@pytest.mark.parametrize("text", ["", "10", "0/s", "-1/s", "10/d", "ten/s", "1.5/s"])
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as error:
        RateLimit.parse(text)
    assert error.value.field == "rate_limit"


def test_permits_are_spaced_by_the_interval_and_idle_time_earns_no_burst() -> None:
    limit = RateLimit.parse("4/s")

    delays, next_free = limit.reserve(next_free=0.0, now=100.0, count=10, horizon=0.6)

    assert delays == [0.0, 0.25, 0.5]
    assert next_free == 100.75
    assert limit.reserve(next_free, now=100.0, count=1, horizon=0.6)[0] == []


def test_turns_carry_over_rounds_of_one_release_each() -> None:
    turns = FairShareTurns()
    backlogs = {"a": 100, "b": 100, "c": 1}

    chosen = [turns.next("normal", backlogs, {}, 1)[0] for _ in range(6)]

    assert sorted(chosen[:3]) == ["a", "b", "c"]
    assert sorted(chosen[3:5]) == ["a", "b"]


def test_in_one_round_robin_a_waiting_owner_is_never_further_back_than_the_bound() -> None:
    turns = FairShareTurns()
    weights = {"a": 5, "b": 1}
    backlogs = {"a": 1000, "b": 1000}
    chosen: list[str] = []
    for _ in range(60):
        chosen += turns.next("normal", backlogs, weights, 1)
    gaps = [len(run) for run in "".join(chosen).split("b")[1:-1]]

    assert max(gaps) <= starvation_bound(weights, "b", ["a"])


def test_a_release_window_is_twice_what_the_workers_took_and_doubles_when_run_dry() -> None:
    windows = ReleaseWindows(floor=4, ceiling=64)

    first = windows.room("default", 0)  # nothing known yet: the list ran dry, grow
    windows.released("default", first)
    steady = windows.room("default", 6)  # 10 of 16 taken: window 20
    windows.released("default", steady)
    dry = windows.room("default", 0)  # all 20 taken, and maybe more: 64 (the ceiling)
    windows.released("default", dry)
    idle = windows.room("default", 64)  # nothing taken: back to the floor

    assert (first, steady, dry, idle) == (16, 14, 64, 0)
    assert windows.room("other", 3) == 1  # each queue its own, from the floor
