"""Tasks go in and come back whole, and the queries over them agree on every backend."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta, timezone

import pytest

from application.ports import Cursor, TaskQuery
from domain.errors import NotFoundError
from domain.model import ModelId
from domain.task import (
    Priority,
    Progress,
    RunToken,
    Task,
    TaskError,
    TaskId,
    TaskStatus,
)
from domain.user import User
from tests.factories import T0, make_model, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

CEST = timezone(timedelta(hours=2))


def every_field_set(owner: User, model_id: ModelId) -> Task:
    """A task with no field left at its default, as odd as the domain allows."""
    task = make_task(user=owner)
    return replace(
        task,
        name="every field",
        task_type="etl.load_v2",
        priority=Priority.HIGH,
        args=[1, 2.5, "three", None, True, [4], {"five": 5}],
        kwargs={"nested": {"list": [1, {"x": None}]}, "unicode": "héllo ✓", "empty": {}},
        model_id=model_id,
        status=TaskStatus.RUNNING,
        progress=Progress(42),
        progress_message="halfway-ish",
        result={"rows": 10, "ratio": 0.25, "tags": ["a", "b"]},
        error=TaskError(type="TimeoutError", message="took too long"),
        created_at=T0,
        started_at=(T0 + timedelta(seconds=1, microseconds=123456)).astimezone(CEST),
        completed_at=T0 + timedelta(minutes=5),
        heartbeat_at=T0 + timedelta(minutes=2),
        attempts=2,
        max_attempts=7,
        run_token=RunToken("run-2"),
        dispatched=True,
        due_at=T0 + timedelta(seconds=90),
    )


def test_a_task_comes_back_with_every_field_as_it_went_in(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    model = save(new_uow, make_model(user=owner))
    task = every_field_set(owner, model.id)

    save(new_uow, task)
    with new_uow() as uow:
        loaded = uow.tasks.get(task.id)

    assert asdict(loaded) == asdict(task)
    assert loaded.started_at is not None
    assert loaded.started_at.utcoffset() is not None


def test_a_task_comes_back_as_updated(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        running = uow.tasks.get(task.id)
        running.start(run_token=RunToken("r1"), at=T0 + timedelta(seconds=1))
        running.report_progress(run_token=RunToken("r1"), percent=30, at=T0, message="m")
        running.retry(run_token=RunToken("r1"), error=TaskError("OSError", "disk"), at=T0)
        running.start(run_token=RunToken("r2"), at=T0 + timedelta(seconds=2))
        running.complete(run_token=RunToken("r2"), result=[{"ok": True}], at=T0)
        uow.tasks.update(running)
        uow.commit()

    with new_uow() as uow:
        loaded = uow.tasks.get(task.id)

    assert asdict(loaded) == asdict(running)
    assert loaded.status is TaskStatus.COMPLETED


def test_an_unknown_task_is_not_found(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow, pytest.raises(NotFoundError):
        uow.tasks.get(make_task().id)


def test_a_deleted_task_is_gone(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, make_task(user=owner))

    with new_uow() as uow:
        uow.tasks.delete(uow.tasks.get(task.id))
        uow.commit()

    with new_uow() as uow, pytest.raises(NotFoundError):
        uow.tasks.get(task.id)


def page_through(new_uow: NewUnitOfWork, query: TaskQuery) -> list[TaskId]:
    seen: list[TaskId] = []
    with new_uow() as uow:
        while page := uow.tasks.find(query):
            seen.extend(task.id for task in page)
            last = page[-1]
            query = replace(query, after=Cursor(created_at=last.created_at, id=str(last.id)))
    return seen


def newest_first(tasks: list[Task]) -> list[TaskId]:
    ordered = sorted(tasks, key=lambda t: (t.created_at, str(t.id)), reverse=True)
    return [t.id for t in ordered]


@pytest.fixture
def listing(new_uow: NewUnitOfWork, owner: User) -> list[Task]:
    """Nine tasks of two owners, several created at the same instant, in mixed states."""
    other = save(new_uow, make_user())
    offsets = [0, 0, 0, 1, 2, 2, 3]
    mine = [make_task(user=owner, at=T0 + timedelta(seconds=s)) for s in offsets]
    theirs = [make_task(user=other, at=T0), make_task(user=other, at=T0 + timedelta(seconds=9))]
    for task in mine[:3]:
        task.cancel(at=T0)
    save(new_uow, *mine, *theirs)
    return [*mine, *theirs]


def test_pages_of_a_users_tasks_cover_each_exactly_once_newest_first(
    new_uow: NewUnitOfWork, owner: User, listing: list[Task]
) -> None:
    query = TaskQuery(owner_id=owner.id, limit=2)

    seen = page_through(new_uow, query)

    assert seen == newest_first([t for t in listing if t.user_id == owner.id])


def test_pages_of_every_task_cover_each_exactly_once(
    new_uow: NewUnitOfWork, listing: list[Task]
) -> None:
    assert page_through(new_uow, TaskQuery(limit=4)) == newest_first(listing)


def test_pages_with_a_status_filter_cover_exactly_the_matching_tasks(
    new_uow: NewUnitOfWork, owner: User, listing: list[Task]
) -> None:
    query = TaskQuery(owner_id=owner.id, status=TaskStatus.CANCELLED, limit=1)

    seen = page_through(new_uow, query)

    cancelled = [t for t in listing if t.user_id == owner.id and t.status is TaskStatus.CANCELLED]
    assert len(seen) == 3
    assert seen == newest_first(cancelled)


def test_find_filters_by_type_priority_and_model(new_uow: NewUnitOfWork, owner: User) -> None:
    model = save(new_uow, make_model(user=owner))
    wanted = make_task(user=owner, task_type="checksum", priority=Priority.HIGH)
    wanted.model_id = model.id
    decoys = [
        make_task(user=owner, task_type="sleep", priority=Priority.HIGH),
        make_task(user=owner, task_type="checksum", priority=Priority.LOW),
        make_task(user=owner, task_type="checksum", priority=Priority.HIGH),
    ]
    save(new_uow, wanted, *decoys)

    query = TaskQuery(task_type="checksum", priority=Priority.HIGH, model_id=model.id)
    with new_uow() as uow:
        found = uow.tasks.find(query)

    assert [t.id for t in found] == [wanted.id]


def test_find_filters_by_a_part_of_the_name_whatever_its_case(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    names = ["Nightly ETL", "etl_100%", "ETL-weekly", "backup", "netl"]
    tasks = {name: make_task(user=owner, name=name) for name in names}
    save(new_uow, *tasks.values())

    def found(part: str) -> set[str]:
        with new_uow() as uow:
            return {t.name for t in uow.tasks.find(TaskQuery(name_contains=part))}

    assert found("etl") == {"Nightly ETL", "etl_100%", "ETL-weekly", "netl"}
    assert found("100%") == {"etl_100%"}  # % and _ are themselves, not wildcards
    assert found("l_1") == {"etl_100%"}
    assert found("_") == {"etl_100%"}
    assert found("%") == {"etl_100%"}
    assert found("weekly") == {"ETL-weekly"}


def test_find_filters_by_a_creation_window_both_ends_exclusive(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    tasks = [make_task(user=owner, at=T0 + timedelta(minutes=m)) for m in range(4)]
    save(new_uow, *tasks)

    def found(**window: object) -> list[TaskId]:
        with new_uow() as uow:
            return [t.id for t in uow.tasks.find(TaskQuery(**window))]  # type: ignore[arg-type]

    t = [task.created_at for task in tasks]
    ids = [task.id for task in tasks]
    assert found(created_after=t[1]) == [ids[3], ids[2]]
    assert found(created_before=t[2]) == [ids[1], ids[0]]
    assert found(created_after=t[0], created_before=t[3]) == [ids[2], ids[1]]
    # The same instant in another zone is the same instant.
    assert found(created_after=t[1].astimezone(CEST)) == [ids[3], ids[2]]


def test_pages_with_name_and_window_filters_cover_exactly_the_matching_tasks(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    other = save(new_uow, make_user())
    tasks = [
        make_task(user=user, name=name, at=T0 + timedelta(seconds=s))
        for s in (0, 0, 1, 1, 1, 2, 3, 3)
        for user in (owner, other)
        for name in ("report", "backup")
    ]
    save(new_uow, *tasks)
    query = TaskQuery(
        owner_id=owner.id,
        name_contains="REP",
        created_after=T0,
        created_before=T0 + timedelta(seconds=3),
        limit=2,
    )

    seen = page_through(new_uow, query)

    wanted = [
        t
        for t in tasks
        if t.user_id == owner.id
        and t.name == "report"
        and T0 < t.created_at < T0 + timedelta(seconds=3)
    ]
    assert len(seen) == 4
    assert seen == newest_first(wanted)


def test_count_active_counts_only_the_owners_pending_and_running_tasks(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    pending, running, cancelled = (make_task(user=owner) for _ in range(3))
    running.start(run_token=RunToken("r"), at=T0)
    cancelled.cancel(at=T0)
    someone_else = save(new_uow, make_user())
    save(new_uow, pending, running, cancelled, make_task(user=someone_else))

    with new_uow() as uow:
        assert uow.tasks.count_active(owner.id) == 2


def test_count_active_stops_at_its_bound(new_uow: NewUnitOfWork, owner: User) -> None:
    save(new_uow, *(make_task(user=owner) for _ in range(5)))

    with new_uow() as uow:
        counts = [uow.tasks.count_active(owner.id, up_to=n) for n in (1, 3, 5, 9)]

    assert counts == [1, 3, 5, 5]


def test_undispatched_tasks_are_listed_oldest_first_until_marked_dispatched(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    old, older, oldest, recent, started = (
        make_task(user=owner, at=T0 - timedelta(minutes=m)) for m in (1, 2, 3, 0, 4)
    )
    started.start(run_token=RunToken("r"), at=T0)
    save(new_uow, old, older, oldest, recent, started)
    cutoff = T0 - timedelta(seconds=30)

    with new_uow() as uow:
        first = uow.tasks.list_undispatched(created_before=cutoff, limit=2)
        uow.tasks.mark_dispatched([t.id for t in first], due_at=T0)
        uow.commit()
    with new_uow() as uow:
        rest = uow.tasks.list_undispatched(created_before=cutoff, limit=10)
        marked = uow.tasks.get(oldest.id)

    assert [t.id for t in first] == [oldest.id, older.id]
    assert [t.id for t in rest] == [old.id]
    assert marked.dispatched is True


def test_holding_stale_running_tasks_reads_again_only_those_still_silent_in_id_order(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    def running(heartbeat_at: timedelta) -> Task:
        return replace(
            make_task(user=owner),
            status=TaskStatus.RUNNING,
            started_at=T0,
            heartbeat_at=T0 + heartbeat_at,
            attempts=1,
            run_token=RunToken(f"run-{heartbeat_at.total_seconds()}"),
        )

    silent = [running(timedelta(seconds=n)) for n in (1, 2, 3)]
    heard_from = running(timedelta(seconds=60))
    save(new_uow, silent[0], *silent[1:], heard_from)
    asked = [t.id for t in (*silent, heard_from)]
    with new_uow() as uow:
        found = uow.tasks.list_stale_running(heartbeat_before=T0 + timedelta(seconds=30), limit=10)
        held = uow.tasks.hold_stale_running(asked, heartbeat_before=T0 + timedelta(seconds=30))
        none = uow.tasks.hold_stale_running([], heartbeat_before=T0 + timedelta(seconds=30))

    assert [t.id for t in found] == [t.id for t in silent]  # oldest heartbeat first
    assert [t.id for t in held] == sorted((t.id for t in silent), key=str)
    assert none == []
