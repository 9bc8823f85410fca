"""What only the SQL adapter can promise: column-level writes, cascades, translated errors."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, delete, func, make_url, select, text

from adapters.sqlalchemy.engine import (
    SqlAlchemyDatabaseProbe,
    create_connection_factory,
    create_database_engine,
    create_migration_engine,
)
from adapters.sqlalchemy.tables import ModelRow, TaskRow, UserRow
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import DependencyUnavailableError
from domain.errors import AlreadyExistsError
from domain.task import RunToken
from domain.user import User
from tests.factories import T0, make_model, make_running_task, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save, sql_units_of_work

A = RunToken("run-a")


@pytest.fixture
def sql_owner(new_sql_uow: NewUnitOfWork) -> User:
    return save(new_sql_uow, make_user())


def test_a_heartbeat_does_not_undo_progress_reported_meanwhile(
    new_sql_uow: NewUnitOfWork, sql_owner: User
) -> None:
    task = save(new_sql_uow, make_running_task(user=sql_owner, token=A))

    with new_sql_uow() as heartbeat_thread:
        beating = heartbeat_thread.tasks.get(task.id)
        with new_sql_uow() as task_body:
            working = task_body.tasks.get(task.id)
            working.report_progress(run_token=A, percent=60, at=T0, message="60%")
            task_body.tasks.update(working)
            task_body.commit()
        beating.heartbeat(run_token=A, at=T0 + timedelta(seconds=30))
        heartbeat_thread.tasks.update(beating)
        heartbeat_thread.commit()

    with new_sql_uow() as uow:
        final = uow.tasks.get(task.id)
    assert (final.progress.percent, final.progress_message) == (60, "60%")
    assert final.heartbeat_at == T0 + timedelta(seconds=30)


def test_a_rename_does_not_undo_the_relays_dispatch_flag(
    new_sql_uow: NewUnitOfWork, sql_owner: User
) -> None:
    task = save(new_sql_uow, make_task(user=sql_owner))

    with new_sql_uow() as client:
        renaming = client.tasks.get(task.id)
        with new_sql_uow() as relay:
            relay.tasks.mark_dispatched([task.id], due_at=T0)
            relay.commit()
        renaming.rename("renamed")
        client.tasks.update(renaming)
        client.commit()

    with new_sql_uow() as uow:
        final = uow.tasks.get(task.id)
    assert (final.name, final.dispatched) == ("renamed", True)


def test_deleting_a_user_deletes_their_models_and_tasks(
    new_sql_uow: NewUnitOfWork, engine: Engine, sql_owner: User
) -> None:
    model = make_model(user=sql_owner)
    save(new_sql_uow, model, make_task(user=sql_owner), make_task(user=sql_owner))

    with engine.begin() as connection:
        connection.execute(delete(UserRow).where(UserRow.id == sql_owner.id))

    with engine.connect() as connection:
        tasks = connection.scalar(select(func.count()).select_from(TaskRow))
        models = connection.scalar(select(func.count()).select_from(ModelRow))
    assert (tasks, models) == (0, 0)


def test_timestamps_come_back_timezone_aware_in_utc(
    new_sql_uow: NewUnitOfWork, sql_owner: User
) -> None:
    in_tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    task = save(new_sql_uow, make_task(user=sql_owner, at=in_tokyo))

    with new_sql_uow() as uow:
        loaded = uow.tasks.get(task.id)

    assert loaded.created_at == T0
    assert loaded.created_at.tzinfo is UTC


def test_the_unique_email_constraint_is_reported_as_already_exists(
    new_sql_uow: NewUnitOfWork, sql_owner: User
) -> None:
    # No pre-check on update: this is the constraint itself speaking.
    other = save(new_sql_uow, make_user())

    with new_sql_uow() as uow, pytest.raises(AlreadyExistsError) as refused:
        uow.users.update(replace(uow.users.get(other.id), email=sql_owner.email))

    assert refused.value.context["field"] == "email"


def test_a_task_id_used_twice_is_reported_as_already_exists(
    new_sql_uow: NewUnitOfWork, sql_owner: User
) -> None:
    task = save(new_sql_uow, make_task(user=sql_owner))

    with new_sql_uow() as uow, pytest.raises(AlreadyExistsError) as refused:
        uow.tasks.add(replace(task, name="same id"))

    assert refused.value.context["field"] == "id"


def test_the_probe_passes_on_a_reachable_database(engine: Engine) -> None:
    probe = SqlAlchemyDatabaseProbe(engine)

    probe.check()

    assert probe.name == "database"


def unreachable_urls(tmp_path: Path) -> list[str]:
    return [
        f"sqlite:///{tmp_path / 'no-such-directory' / 'taskhub.db'}",
        # Port 1 on the loopback: refused at once, no server needed.
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
    ]


def test_an_unreachable_database_fails_at_the_start_of_a_unit_of_work(tmp_path: Path) -> None:
    for url in unreachable_urls(tmp_path):
        engine = create_database_engine(url)
        uow = SqlAlchemyUnitOfWork(create_connection_factory(engine))

        with pytest.raises(DependencyUnavailableError) as failed, uow:
            pass

        assert failed.value.dependency == "database"
        engine.dispose()


def test_the_probe_reports_an_unreachable_database_quickly(tmp_path: Path) -> None:
    for url in unreachable_urls(tmp_path):
        engine = create_database_engine(url)
        started = time.monotonic()

        with pytest.raises(DependencyUnavailableError):
            SqlAlchemyDatabaseProbe(engine).check()

        assert time.monotonic() - started < 3
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_lost_mid_transaction_is_reported_as_database_unavailable(
    postgresql_url: str,
) -> None:
    victim = f"taskhub-victim-{uuid4().hex[:8]}"
    url = make_url(postgresql_url).update_query_dict({"application_name": victim})
    user = make_user()
    with sql_units_of_work(url.render_as_string(hide_password=False)) as new_uow:
        with new_uow() as uow:  # leaving the block must not raise a second time
            uow.users.add(user)
            terminate_backends(postgresql_url, application_name=victim)
            with pytest.raises(DependencyUnavailableError):
                uow.users.get(user.id)

        with new_uow() as fresh:  # the pool recovers with a new connection
            assert fresh.users.find_by_email(user.email) is None


def terminate_backends(url: str, *, application_name: str) -> None:
    engine = create_migration_engine(url)
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name"
            ),
            {"name": application_name},
        )
    engine.dispose()
