"""A new scheduler lease's fence, claimed in the database, agrees on every backend."""

from __future__ import annotations

import pytest

from application.errors import FencedOffError
from domain.schedule import Interval, Schedule, TaskTemplate
from domain.user import User
from tests.factories import T0
from tests.integration.persistence.units_of_work import NewUnitOfWork


def stored_schedule(new_uow: NewUnitOfWork, owner: User, *, fence: int) -> Schedule:
    schedule = Schedule.create(
        name=f"fenced at {fence}",
        user_id=owner.id,
        template=TaskTemplate("tick", "noop"),
        trigger=Interval(60),
        at=T0,
    )
    schedule.fence = fence
    with new_uow() as uow:
        uow.schedules.add(schedule)
        uow.commit()
    return schedule


def claim(new_uow: NewUnitOfWork, generation: int) -> int:
    with new_uow() as uow:
        fence = uow.schedules.raise_fence(at_least=generation)
        uow.commit()
    return fence


def test_a_new_lease_works_under_its_generation_when_it_is_above_every_stored_fence(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    low = stored_schedule(new_uow, owner, fence=3)
    high = stored_schedule(new_uow, owner, fence=7)

    assert claim(new_uow, 8) == 8

    with new_uow() as uow:
        assert {uow.schedules.get(s.id).fence for s in (low, high)} == {8}


def test_a_generation_counted_again_from_one_claims_a_fence_above_every_stored_one(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    schedule = stored_schedule(new_uow, owner, fence=1001)
    with new_uow() as uow:
        stale = uow.schedules.get(schedule.id)  # read by the holder of lease 1001

    assert claim(new_uow, 1) == 1002

    stale.rename("written under the old lease")
    with new_uow() as uow, pytest.raises(FencedOffError):
        uow.schedules.update(stale)


def test_without_schedules_the_fence_is_the_generation(new_uow: NewUnitOfWork) -> None:
    assert claim(new_uow, 5) == 5
