"""Signing up: throttled per address, a taken email answered and priced like a free one, and
the duplicate looked up before the password is hashed."""

from __future__ import annotations

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.security import ReversedPasswordHasher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import TooManyAttemptsError
from application.login_backoff import LoginBackoff
from application.use_cases.register_user import RegisterUser
from application.use_cases.sign_up import SignUp
from domain.errors import AlreadyExistsError
from domain.user import Email, User

PASSWORD = "correct horse"


class EventLog(ReversedPasswordHasher):
    """Adds "hash" to the events for each password hashed."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def hash(self, password: str) -> str:
        self.events.append("hash")
        return super().hash(password)


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
def hasher(events: list[str]) -> EventLog:
    return EventLog(events)


@pytest.fixture
def register(uow: InMemoryUnitOfWork, hasher: EventLog, clock: FixedClock) -> RegisterUser:
    return RegisterUser(uow=uow, hasher=hasher, clock=clock, allow_signup=True)


@pytest.fixture
def sign_up(register: RegisterUser, clock: FixedClock) -> SignUp:
    throttle = InMemoryLoginThrottle(LoginBackoff(free_attempts=3), clock)
    return SignUp(register=register, throttle=throttle)


def test_a_taken_email_is_answered_like_a_free_one_at_the_same_cost_and_changes_nothing(
    sign_up: SignUp, alice: User, events: list[str], uow: InMemoryUnitOfWork
) -> None:
    taken = sign_up.execute(email=" ALICE@example.com", password=PASSWORD, client_ip="10.0.0.1")
    hashes_for_taken = events.count("hash")
    free = sign_up.execute(email="carol@example.com", password=PASSWORD, client_ip="10.0.0.2")

    assert (str(taken), str(free)) == ("alice@example.com", "carol@example.com")
    assert hashes_for_taken == 1
    assert events.count("hash") == 2
    with uow:
        assert uow.users.get(alice.id) == alice


def test_registering_a_taken_email_hashes_once_and_then_refuses_it(
    register: RegisterUser, alice: User, events: list[str], uow: InMemoryUnitOfWork
) -> None:
    with pytest.raises(AlreadyExistsError):
        register.execute(email="alice@example.com", password="another password")

    assert events == ["hash"]
    with uow:
        stored = uow.users.find_by_email(alice.email)
    assert stored is not None
    assert stored.hashed_password == alice.hashed_password


class LookupLoggingUnitOfWork(InMemoryUnitOfWork):
    """Adds "lookup" to the events whenever a user is looked up by email."""

    def __init__(self, store: InMemoryStore, events: list[str]) -> None:
        self.journal = events
        super().__init__(store)

    def _start(self) -> None:
        super()._start()
        find_by_email = self.users.find_by_email

        def logged(email: Email) -> User | None:
            self.journal.append("lookup")
            return find_by_email(email)

        self.users.find_by_email = logged  # type: ignore[method-assign]


def test_the_duplicate_is_looked_up_before_the_password_is_hashed(
    alice: User, events: list[str], store: InMemoryStore, hasher: EventLog, clock: FixedClock
) -> None:
    uow = LookupLoggingUnitOfWork(store, events)
    register = RegisterUser(uow=uow, hasher=hasher, clock=clock, allow_signup=True)

    with pytest.raises(AlreadyExistsError):
        register.execute(email="alice@example.com", password="another password")

    assert events == ["lookup", "hash"]


def test_sign_ups_from_one_address_past_the_free_ones_must_wait(
    sign_up: SignUp, events: list[str], clock: FixedClock
) -> None:
    for n in range(3):
        sign_up.execute(email=f"user{n}@example.com", password=PASSWORD, client_ip="10.0.0.1")

    with pytest.raises(TooManyAttemptsError, match="sign-ups") as refused:
        sign_up.execute(email="user9@example.com", password=PASSWORD, client_ip="10.0.0.1")

    assert refused.value.retry_after == 1
    assert events.count("hash") == 3  # the refused one cost nothing
    sign_up.execute(email="user9@example.com", password=PASSWORD, client_ip="10.0.0.2")
    clock.advance(seconds=1)
    sign_up.execute(email="user10@example.com", password=PASSWORD, client_ip="10.0.0.1")


def test_taken_emails_count_against_the_address_like_any_sign_up(
    sign_up: SignUp, alice: User
) -> None:
    for _ in range(3):
        sign_up.execute(email="alice@example.com", password=PASSWORD, client_ip="10.0.0.1")

    with pytest.raises(TooManyAttemptsError):
        sign_up.execute(email="carol@example.com", password=PASSWORD, client_ip="10.0.0.1")
