"""Unit-of-work factories for the tests, and saving test data through them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWork
from domain.model import Model
from domain.task import Task
from domain.user import User
from domain.workflow import Workflow
from tests.factories import T0

NewUnitOfWork = Callable[[], UnitOfWork]
E = TypeVar("E", User, Model, Task)


@contextmanager
def sql_units_of_work(url: str) -> Iterator[NewUnitOfWork]:
    """Makes SQL units of work on `url`, sharing one engine that is disposed at the end."""
    engine = create_database_engine(url)
    connection_factory = create_connection_factory(engine)
    try:
        yield lambda: SqlAlchemyUnitOfWork(connection_factory)
    finally:
        engine.dispose()


def save(new_uow: NewUnitOfWork, first: E, *more: User | Model | Task) -> E:
    """Add the entities in order (owners before what they own), commit; return the first."""
    with new_uow() as uow:
        for entity in (first, *more):
            if isinstance(entity, User):
                uow.users.add(entity)
            elif isinstance(entity, Model):
                uow.models.add(entity)
            else:
                uow.tasks.add(entity)
        uow.commit()
    return first


def save_workflow(
    new_uow: NewUnitOfWork, owner: User, graph: dict[str, list[str]]
) -> dict[str, Task]:
    """A workflow of no-op tasks, key -> the keys it depends on, stored; its tasks by key."""
    workflow = Workflow.submit(name="stored", user_id=owner.id, at=T0)
    tasks = {
        key: Task.submit(
            name=key,
            task_type="noop",
            user_id=owner.id,
            at=T0,
            workflow_id=workflow.id,
            workflow_key=key,
            depends_on=parents,
        )
        for key, parents in graph.items()
    }
    with new_uow() as uow:
        uow.workflows.add(workflow)
        uow.tasks.add_many(list(tasks.values()))
        uow.commit()
    return tasks
