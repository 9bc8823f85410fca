"""Unit-of-work factories for the tests, and saving test data through them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from adapters.sqlalchemy.engine import create_database_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWork
from domain.model import Model
from domain.task import Task
from domain.user import User

NewUnitOfWork = Callable[[], UnitOfWork]
E = TypeVar("E", User, Model, Task)


@contextmanager
def sql_units_of_work(url: str) -> Iterator[NewUnitOfWork]:
    """Makes SQL units of work on `url`, sharing one engine that is disposed at the end."""
    engine = create_database_engine(url)
    session_factory = create_session_factory(engine)
    try:
        yield lambda: SqlAlchemyUnitOfWork(session_factory)
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
