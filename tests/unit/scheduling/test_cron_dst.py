"""Cron fire times across daylight-saving changes (Europe/Paris, 2026: spring forward on
29 March at 02:00, fall back on 25 October at 03:00)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from adapters.cron.calendar import CronsimCalendar
from domain.errors import ValidationError
from domain.schedule import Cron

PARIS = "Europe/Paris"


def fire_times(cron: Cron, after: datetime, count: int) -> list[datetime]:
    calendar = CronsimCalendar()
    times = []
    for _ in range(count):
        after = calendar.next_after(cron, after)
        times.append(after)
    return times


def test_a_0230_schedule_fires_once_on_the_spring_forward_day_right_after_the_gap() -> None:
    times = fire_times(Cron("30 2 * * *", PARIS), datetime(2026, 3, 28, 12, tzinfo=UTC), 3)

    assert [t.isoformat() for t in times] == [
        "2026-03-29T01:00:00+00:00",  # 03:00 CEST: 02:30 does not exist that day
        "2026-03-30T00:30:00+00:00",  # 02:30 CEST
        "2026-03-31T00:30:00+00:00",
    ]


def test_a_0230_schedule_fires_once_on_the_fall_back_day_when_0230_happens_twice() -> None:
    times = fire_times(Cron("30 2 * * *", PARIS), datetime(2026, 10, 24, 12, tzinfo=UTC), 3)

    assert [t.isoformat() for t in times] == [
        "2026-10-25T00:30:00+00:00",  # the first 02:30 (CEST) only
        "2026-10-26T01:30:00+00:00",  # 02:30 CET
        "2026-10-27T01:30:00+00:00",
    ]


def test_a_quarter_hourly_schedule_fires_through_both_repeated_hours_without_a_double() -> None:
    times = fire_times(Cron("*/15 * * * *", PARIS), datetime(2026, 10, 24, 23, 50, tzinfo=UTC), 9)

    assert len(set(times)) == len(times)
    assert all(b - a == (times[1] - times[0]) for a, b in itertools.pairwise(times))


def test_fire_times_are_strictly_after_the_given_time() -> None:
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    assert CronsimCalendar().next_after(Cron("0 12 * * *"), at) == datetime(
        2026, 1, 2, 12, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("expression", "zone", "field"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("* * *", "UTC", "cron"),
        ("* * * * *", "Mars/Olympus", "timezone"),
    ],
)
def test_an_unreadable_cron_or_zone_is_refused_naming_it(
    expression: str, zone: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CronsimCalendar().check(Cron(expression, zone))

    assert caught.value.field == field
