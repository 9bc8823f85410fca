"""Fixtures wiring the use cases to in-memory adapters."""

from __future__ import annotations

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import FailingDispatcher, RecordingTaskDispatcher
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.security import InMemoryTokenService, ReversedPasswordHasher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.login_backoff import LoginBackoff
from application.ports import TaskTypeSpec
from application.publishing import RecordDispatchedNow, TaskPublisher
from domain.model import DEPLOY_MODEL_TASK, VALIDATE_MODEL_TASK
from domain.task import Priority
from domain.user import User
from tests.factories import make_user

TASK_TYPES = [
    TaskTypeSpec(name="sleep", description="sleeps", arguments_schema={"required": ["seconds"]}),
    TaskTypeSpec(name="checksum", description="hashes a file", default_priority=Priority.HIGH),
    TaskTypeSpec(
        name="bulk", description="batch job", default_priority=Priority.LOW, max_attempts=5
    ),
    TaskTypeSpec(name=VALIDATE_MODEL_TASK, description="validates a model"),
    TaskTypeSpec(
        name=DEPLOY_MODEL_TASK, description="deploys a model", default_priority=Priority.HIGH
    ),
]


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def dispatcher() -> RecordingTaskDispatcher:
    return RecordingTaskDispatcher()


@pytest.fixture
def publisher(
    uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, clock: FixedClock
) -> TaskPublisher:
    return TaskPublisher(dispatcher=dispatcher, recorder=RecordDispatchedNow(uow), clock=clock)


@pytest.fixture
def publisher_with_broker_down(uow: InMemoryUnitOfWork, clock: FixedClock) -> TaskPublisher:
    """Every publish fails as with the broker down: tasks stay undispatched for the relay."""
    return TaskPublisher(
        dispatcher=FailingDispatcher(), recorder=RecordDispatchedNow(uow), clock=clock
    )


@pytest.fixture
def catalog() -> StaticTaskTypeCatalog:
    return StaticTaskTypeCatalog(TASK_TYPES)


@pytest.fixture
def hasher() -> ReversedPasswordHasher:
    return ReversedPasswordHasher()


@pytest.fixture
def tokens() -> InMemoryTokenService:
    return InMemoryTokenService()


@pytest.fixture
def throttle(clock: FixedClock) -> InMemoryLoginThrottle:
    return InMemoryLoginThrottle(LoginBackoff(), clock)


def _saved(uow: InMemoryUnitOfWork, user: User) -> User:
    with uow:
        uow.users.add(user)
        uow.commit()
    return user


@pytest.fixture
def alice(uow: InMemoryUnitOfWork) -> User:
    return _saved(uow, make_user(email="alice@example.com"))


@pytest.fixture
def bob(uow: InMemoryUnitOfWork) -> User:
    return _saved(uow, make_user(email="bob@example.com"))


@pytest.fixture
def admin(uow: InMemoryUnitOfWork) -> User:
    return _saved(uow, make_user(email="root@example.com", is_admin=True))
