"""The real FastAPI app and container, with in-memory persistence and a recording dispatcher."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from dependency_injector import providers
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.in_memory.cipher import InMemorySecretCipher
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.queue_backlogs import FixedQueueBacklogs
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.in_memory.worker_roster import FixedWorkerRoster
from config.settings import Settings
from domain.user import Email
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


@dataclass
class Account:
    email: str
    token: str
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "secret_key": SECRET,
        "bcrypt_rounds": 4,
        "database_url": "sqlite://",
        "broker_url": "memory://",
        "max_page_size": 50,
        "max_active_tasks_per_user": 20,
        # Tests sign many users up from the one TestClient address.
        "signup_free_attempts": 1000,
    }
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def dispatcher() -> RecordingTaskDispatcher:
    return RecordingTaskDispatcher()


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def container(
    settings: Settings, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> Iterator[ApiContainer]:
    container = ApiContainer()
    container.core.settings.override(providers.Object(settings))
    container.core.unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.single_read_unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.dispatcher.override(providers.Object(dispatcher))
    container.core.probes.override(providers.List())
    container.core.secret_cipher.override(providers.Object(InMemorySecretCipher()))
    # What a submission reads of the queues' backlogs: idle unless a test says otherwise.
    container.core.queue_backlogs.override(providers.Object(FixedQueueBacklogs()))
    container.core.worker_roster.override(providers.Object(FixedWorkerRoster()))
    yield container
    container.reset_override()


@pytest.fixture(scope="session")
def shared_app() -> FastAPI:
    # Building the app costs more than most tests; each test swaps in its own container.
    base = ApiContainer()
    base.core.settings.override(providers.Object(make_settings()))
    base.core.secret_cipher.override(providers.Object(InMemorySecretCipher()))
    return create_app(base)


@pytest.fixture
def client(container: ApiContainer, shared_app: FastAPI) -> Iterator[TestClient]:
    shared_app.state.container = container
    with TestClient(shared_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def signup(client: TestClient, container: ApiContainer) -> Callable[..., Account]:
    def sign_up(email: str, *, admin: bool = False) -> Account:
        if admin:
            user = container.core.create_administrator().execute(email=email, password=PASSWORD)
            user_id = str(user.id)
        else:
            response = client.post(
                "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
            )
            assert response.status_code == 202, response.text
            user_id = ""
        token = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        access_token = token.json()["access_token"]
        if not user_id:  # a sign-up's answer names no user
            with container.core.unit_of_work() as uow:
                user = uow.users.find_by_email(Email(email))
            assert user is not None
            user_id = str(user.id)
        return Account(email=email, token=access_token, id=user_id)

    return sign_up


@pytest.fixture
def alice(signup: Callable[..., Account]) -> Account:
    return signup("alice@example.com")


@pytest.fixture
def bob(signup: Callable[..., Account]) -> Account:
    return signup("bob@example.com")


@pytest.fixture
def admin(signup: Callable[..., Account]) -> Account:
    return signup("root@example.com", admin=True)


@pytest.fixture
def override_settings(container: ApiContainer) -> Callable[..., Settings]:
    """Replace the settings for the rest of the test, e.g. `override_settings(allow_signup=False)`.

    Use cases are built per request, so what they read (sign-up, quotas, page sizes) changes at
    once; singletons already built (token service, hasher) keep theirs. The container
    fixture's `reset_override()` undoes it.
    """

    def override(**changes: object) -> Settings:
        changed = make_settings(**changes)
        container.core.settings.override(providers.Object(changed))
        return changed

    return override
