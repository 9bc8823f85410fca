from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.pagination import decode_cursor, encode_cursor
from application.ports import Cursor
from application.running.start_task import StartTask
from application.use_cases.get_task import GetTask
from application.use_cases.list_tasks import ListTasks
from application.use_cases.update_task import UpdateTask
from domain.errors import ConflictError, NotFoundError, ValidationError
from domain.task import Priority, Task, TaskStatus
from domain.user import User
from tests.factories import T0, make_task


def save(uow: InMemoryUnitOfWork, *tasks: Task) -> None:
    with uow:
        for task in tasks:
            uow.tasks.add(task)
        uow.commit()


def test_owner_can_rename_and_reprioritise_a_pending_task(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = make_task(user=alice)
    save(uow, task)

    UpdateTask(uow=uow, clock=FixedClock(T0)).execute(
        alice, task.id, name="  renamed ", priority=Priority.HIGH
    )

    row = GetTask(uow=uow).execute(alice, task.id)
    assert (row.name, row.priority) == ("renamed", Priority.HIGH)


def test_a_started_task_cannot_be_changed(
    uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = make_task(user=alice)
    save(uow, task)
    StartTask(uow=uow, clock=clock).execute(task.id)

    with pytest.raises(ConflictError):
        UpdateTask(uow=uow, clock=FixedClock(T0)).execute(alice, task.id, name="too late")


def test_another_users_task_is_not_found_for_read_and_update(
    uow: InMemoryUnitOfWork, alice: User, bob: User, admin: User
) -> None:
    task = make_task(user=alice)
    save(uow, task)

    with pytest.raises(NotFoundError):
        GetTask(uow=uow).execute(bob, task.id)
    with pytest.raises(NotFoundError):
        UpdateTask(uow=uow, clock=FixedClock(T0)).execute(bob, task.id, name="mine now")
    assert GetTask(uow=uow).execute(admin, task.id).name == task.name


def test_listing_shows_only_the_actors_tasks_newest_first_and_all_of_them_to_admins(
    uow: InMemoryUnitOfWork, alice: User, bob: User, admin: User
) -> None:
    older = make_task(user=alice, at=T0)
    newer = make_task(user=alice, at=T0 + timedelta(minutes=1))
    bobs = make_task(user=bob, at=T0 + timedelta(minutes=2))
    save(uow, older, newer, bobs)
    list_tasks = ListTasks(uow=uow, max_page_size=100)

    mine = list_tasks.execute(alice, limit=10)
    everyone = list_tasks.execute(admin, limit=10)

    assert [t.id for t in mine.items] == [newer.id, older.id]
    assert mine.next_cursor is None
    assert {t.id for t in everyone.items} == {older.id, newer.id, bobs.id}


def test_keyset_pages_cover_every_task_once(uow: InMemoryUnitOfWork, alice: User) -> None:
    tasks = [make_task(user=alice, at=T0 + timedelta(seconds=n % 3)) for n in range(7)]
    save(uow, *tasks)
    list_tasks = ListTasks(uow=uow, max_page_size=100)

    seen, cursor = [], None
    while True:
        page = list_tasks.execute(alice, limit=3, cursor=cursor)
        seen.extend(t.id for t in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert sorted(seen) == sorted(t.id for t in tasks)
    assert len(seen) == len(set(seen))


def test_filters_combine(uow: InMemoryUnitOfWork, clock: FixedClock, alice: User) -> None:
    wanted = make_task(user=alice, task_type="bulk", priority=Priority.LOW)
    other_type = make_task(user=alice, task_type="sleep", priority=Priority.LOW)
    running = make_task(user=alice, task_type="bulk", priority=Priority.LOW)
    save(uow, wanted, other_type, running)
    StartTask(uow=uow, clock=clock).execute(running.id)

    page = ListTasks(uow=uow, max_page_size=100).execute(
        alice, limit=10, status=TaskStatus.PENDING, task_type="bulk", priority=Priority.LOW
    )

    assert [t.id for t in page.items] == [wanted.id]


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_size_outside_the_cap_is_refused(
    uow: InMemoryUnitOfWork, alice: User, limit: int
) -> None:
    with pytest.raises(ValidationError) as error:
        ListTasks(uow=uow, max_page_size=100).execute(alice, limit=limit)

    assert error.value.field == "limit"


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWpzb24", "WzEsMiwzXQ"])
def test_a_forged_cursor_is_refused(uow: InMemoryUnitOfWork, alice: User, cursor: str) -> None:
    with pytest.raises(ValidationError) as error:
        ListTasks(uow=uow, max_page_size=100).execute(alice, limit=5, cursor=cursor)

    assert error.value.field == "cursor"


def test_cursor_round_trips() -> None:
    cursor = Cursor(created_at=T0, id="abc")

    assert decode_cursor(encode_cursor(cursor)) == cursor
