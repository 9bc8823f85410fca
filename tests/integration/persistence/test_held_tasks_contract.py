"""Tasks held back for fair sharing and rate limits, and owners' share weights, are counted
and listed alike on every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.flow import HoldReason
from domain.task import Priority, Task
from domain.user import User
from tests.factories import T0, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def held(owner: User, reason: HoldReason, minutes: int, **kw: Any) -> Task:
    task = make_task(user=owner, at=T0 + timedelta(minutes=minutes), **kw)
    task.hold(reason)
    return task


def test_held_tasks_are_grouped_by_priority_owner_and_type_and_listed_oldest_first(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    other = save(new_uow, make_user())
    second = held(owner, HoldReason.FAIR_SHARE, 2)
    first = held(owner, HoldReason.FAIR_SHARE, 1)
    others = held(other, HoldReason.FAIR_SHARE, 0)
    high = held(owner, HoldReason.FAIR_SHARE, 0, priority=Priority.HIGH)
    limited = held(owner, HoldReason.RATE_LIMIT, 3, task_type="call_api")
    published = make_task(user=owner, at=T0)
    save(new_uow, second, first, others, high, limited, published)

    with new_uow() as uow:
        groups = uow.tasks.held_groups(HoldReason.FAIR_SHARE)
        mine = uow.tasks.list_held_for(
            HoldReason.FAIR_SHARE, priority=Priority.NORMAL, owner_id=owner.id, limit=10
        )
        of_type = uow.tasks.list_held_for(
            HoldReason.RATE_LIMIT, priority=Priority.NORMAL, task_type="call_api", limit=10
        )
        ahead_of_second = uow.tasks.count_held_before(second, owner_id=owner.id)
        ahead_in_queue = uow.tasks.count_held_before(second)

    assert {(g.priority, g.owner_id, g.task_type, g.count) for g in groups} == {
        (Priority.NORMAL, owner.id, second.task_type, 2),
        (Priority.NORMAL, other.id, others.task_type, 1),
        (Priority.HIGH, owner.id, high.task_type, 1),
    }
    assert [t.id for t in mine] == [first.id, second.id]
    assert [t.id for t in of_type] == [limited.id]
    assert (ahead_of_second, ahead_in_queue) == (1, 2)


def test_a_released_task_is_no_longer_held(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, held(owner, HoldReason.FAIR_SHARE, 0))

    with new_uow() as uow:
        (loaded,) = uow.tasks.list_held_for(
            HoldReason.FAIR_SHARE, priority=Priority.NORMAL, limit=5
        )
        loaded.release_held()
        uow.tasks.update(loaded)
        uow.commit()

    with new_uow() as uow:
        assert uow.tasks.get(task.id).held is None
        assert uow.tasks.held_groups(HoldReason.FAIR_SHARE) == []


def test_share_weights_default_to_1_and_keep_what_an_admin_set(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    heavy = save(new_uow, make_user())
    with new_uow() as uow:
        user = uow.users.get(heavy.id)
        user.set_share_weight(4)
        uow.users.update(user)
        uow.commit()

    with new_uow() as uow:
        weights = uow.users.share_weights([owner.id, heavy.id])

    assert weights == {owner.id: 1, heavy.id: 4}
