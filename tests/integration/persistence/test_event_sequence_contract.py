"""The per-user event sequence on every backend: numbers taken one or many at a time are
consecutive and never reused, and events stored together read back in order."""

from __future__ import annotations

from domain.event import EventKind, TaskEvent
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_numbers_taken_in_a_block_follow_the_single_ones_without_a_gap(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    with new_uow() as uow:
        first = uow.events.next_sequence(owner.id)
        block = uow.events.next_sequence(owner.id, 3)
        after_block = uow.events.next_sequence(owner.id)
        uow.commit()

    assert (block, after_block) == (first + 1, first + 4)


def test_numbers_of_a_rolled_back_transaction_are_taken_again(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    with new_uow() as uow:
        first = uow.events.next_sequence(owner.id, 5)

    with new_uow() as uow:
        assert uow.events.next_sequence(owner.id) == first


def test_events_stored_together_read_back_in_their_order(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    tasks = [make_task(user=owner) for _ in range(3)]
    save(new_uow, *tasks)
    with new_uow() as uow:
        first = uow.events.next_sequence(owner.id, len(tasks))
        uow.events.add_many(
            [
                TaskEvent(owner.id, first + n, task.id, EventKind.STATUS, {"n": n}, T0)
                for n, task in enumerate(tasks)
            ]
        )
        uow.commit()

    with new_uow() as uow:
        stored = uow.events.after(owner.id, first - 1, limit=10)

    assert [(e.sequence, e.task_id, e.data) for e in stored] == [
        (first + n, task.id, {"n": n}) for n, task in enumerate(tasks)
    ]


def test_an_event_recorded_is_numbered_next_and_read_back_whole(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        before = uow.events.next_sequence(owner.id)
        recorded = [
            uow.events.record(owner.id, task.id, EventKind.PROGRESS, {"progress": n}, T0)
            for n in (10, 20)
        ]
        uow.commit()

    with new_uow() as uow:
        stored = uow.events.after(owner.id, before, limit=10)

    assert [e.sequence for e in recorded] == [before + 1, before + 2]
    assert stored == recorded
