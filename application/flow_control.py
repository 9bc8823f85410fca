"""Concurrency keys inside a unit of work: admitting a new task to a slot or holding it back,
and releasing held tasks when a run that held a slot ends (from `running/ending.py`)."""

from __future__ import annotations

from collections.abc import Iterable

from application.ports import UnitOfWork
from domain.flow import HoldReason, free_slots
from domain.task import Task


def admit(uow: UnitOfWork, tasks: Iterable[Task]) -> None:
    """Before new tasks are added: each whose key has no free slot is held back, in the
    database, unpublished (the publisher passes held tasks by). Tasks of one key in one
    batch count against each other, in the order given."""
    admitted: dict[str, int] = {}
    for task in tasks:
        if task.concurrency is None:
            continue
        key = task.concurrency.key
        if key not in admitted:
            uow.tasks.lock_concurrency_key(key)
            admitted[key] = uow.tasks.count_slot_holders(key)
        if free_slots(task.concurrency.limit, admitted[key]):
            admitted[key] += 1
        else:
            task.hold(HoldReason.CONCURRENCY)


def in_key_order(tasks: Iterable[Task]) -> list[Task]:
    """The tasks by concurrency key (those without one first), then id: the order in which
    a transaction ending several runs takes their keys' locks (docs/adr/0018)."""
    return sorted(tasks, key=lambda t: (t.concurrency.key if t.concurrency else "", str(t.id)))


def release_freed_slots(uow: UnitOfWork, task: Task) -> list[Task]:
    """After `task` left its run: if it gave up its key's slot (it ended for good), release
    as many held tasks of the key as there are slots free now, highest priority and oldest
    first; returns them, for the caller to publish after the commit.

    Counting the holders anew under the key's lock, instead of handing "my" slot on, is what
    keeps it exact: two runs of a key ending at once release one task each (the second
    counts the first's release), a retry or the reaper's requeue still holds its slot (it is
    pending and not held), and a task cancelled while held frees nothing it did not hold.
    """
    if task.concurrency is None or task.holds_slot:
        return []
    key = task.concurrency.key
    uow.tasks.lock_concurrency_key(key)
    free = free_slots(task.concurrency.limit, uow.tasks.count_slot_holders(key))
    if not free:
        return []
    released = uow.tasks.list_held(key, limit=free)
    for held in released:
        held.release_held()
        uow.tasks.update(held)
    return released
