from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.in_memory.security import InMemoryTokenService, ReversedPasswordHasher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.authenticate import Authenticate
from application.use_cases.create_administrator import CreateAdministrator
from application.use_cases.identify_user import IdentifyUser
from application.use_cases.list_users import ListUsers
from application.use_cases.register_user import RegisterUser
from application.use_cases.update_user import UpdateUser
from domain.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from domain.user import User, UserId


@pytest.fixture
def register(
    uow: InMemoryUnitOfWork, hasher: ReversedPasswordHasher, clock: FixedClock
) -> RegisterUser:
    return RegisterUser(uow=uow, hasher=hasher, clock=clock, allow_signup=True)


@pytest.fixture
def login(
    uow: InMemoryUnitOfWork,
    hasher: ReversedPasswordHasher,
    tokens: InMemoryTokenService,
    throttle: InMemoryLoginThrottle,
) -> Authenticate:
    return Authenticate(uow=uow, hasher=hasher, tokens=tokens, throttle=throttle)


def test_sign_up_stores_a_hashed_password_and_normalised_email(
    register: RegisterUser, uow: InMemoryUnitOfWork
) -> None:
    user = register.execute(email="  Carol@Example.COM ", password="correct horse")

    with uow:
        stored = uow.users.get(user.id)
    assert str(stored.email) == "carol@example.com"
    assert stored.hashed_password != "correct horse"
    assert (stored.is_active, stored.is_admin) == (True, False)


def test_emails_are_unique_whatever_their_case(register: RegisterUser) -> None:
    register.execute(email="dave@example.com", password="correct horse")

    with pytest.raises(AlreadyExistsError) as error:
        register.execute(email="DAVE@example.com", password="another one")

    assert error.value.context["field"] == "email"


def test_a_password_over_72_bytes_is_refused_at_sign_up(register: RegisterUser) -> None:
    with pytest.raises(ValidationError) as error:
        register.execute(email="erin@example.com", password="é" * 37)

    assert error.value.field == "password"


def test_closed_sign_up_refuses_strangers_but_lets_admins_create_users(
    uow: InMemoryUnitOfWork,
    hasher: ReversedPasswordHasher,
    clock: FixedClock,
    admin: User,
    alice: User,
) -> None:
    closed = RegisterUser(uow=uow, hasher=hasher, clock=clock, allow_signup=False)

    with pytest.raises(PermissionDeniedError):
        closed.execute(email="frank@example.com", password="correct horse")
    with pytest.raises(PermissionDeniedError):
        closed.execute(email="frank@example.com", password="correct horse", actor=alice)
    created = closed.execute(
        email="frank@example.com", password="correct horse", actor=admin, is_admin=True
    )

    assert created.is_admin


def test_strangers_cannot_make_themselves_admin(register: RegisterUser) -> None:
    with pytest.raises(PermissionDeniedError):
        register.execute(email="mallory@example.com", password="correct horse", is_admin=True)


def test_login_issues_a_token_that_identifies_the_user(
    register: RegisterUser,
    login: Authenticate,
    uow: InMemoryUnitOfWork,
    tokens: InMemoryTokenService,
) -> None:
    user = register.execute(email="gina@example.com", password="correct horse")

    token = login.execute(email="GINA@example.com", password="correct horse")

    assert IdentifyUser(uow=uow, tokens=tokens).execute(token.token) == user


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("gina@example.com", "wrong password"),
        ("nobody@example.com", "correct horse"),
        ("not an email", "correct horse"),
        ("gina@example.com", "x" * 100),
    ],
)
def test_login_failures_all_look_the_same(
    register: RegisterUser, login: Authenticate, email: str, password: str
) -> None:
    register.execute(email="gina@example.com", password="correct horse")

    with pytest.raises(AuthenticationError) as error:
        login.execute(email=email, password=password)

    assert error.value.detail == "incorrect email or password"


def test_an_unknown_email_still_costs_a_password_check(
    login: Authenticate, hasher: ReversedPasswordHasher
) -> None:
    with pytest.raises(AuthenticationError):
        login.execute(email="nobody@example.com", password="whatever1")

    assert hasher.dummy_checks == 1


def test_deactivated_users_can_neither_log_in_nor_use_old_tokens(
    register: RegisterUser,
    login: Authenticate,
    uow: InMemoryUnitOfWork,
    tokens: InMemoryTokenService,
    admin: User,
) -> None:
    user = register.execute(email="hank@example.com", password="correct horse")
    token = login.execute(email="hank@example.com", password="correct horse")

    UpdateUser(uow=uow).execute(admin, user.id, is_active=False)

    with pytest.raises(AuthenticationError):
        login.execute(email="hank@example.com", password="correct horse")
    with pytest.raises(AuthenticationError):
        IdentifyUser(uow=uow, tokens=tokens).execute(token.token)


def test_tokens_of_deleted_users_and_unknown_tokens_are_refused(
    uow: InMemoryUnitOfWork, tokens: InMemoryTokenService
) -> None:
    orphan = tokens.issue(UserId(uuid4()), 0)

    with pytest.raises(AuthenticationError):
        IdentifyUser(uow=uow, tokens=tokens).execute(orphan.token)
    with pytest.raises(AuthenticationError):
        IdentifyUser(uow=uow, tokens=tokens).execute("forged")


def test_only_admins_list_and_change_users(
    uow: InMemoryUnitOfWork, alice: User, bob: User, admin: User
) -> None:
    with pytest.raises(PermissionDeniedError):
        ListUsers(uow=uow, max_page_size=10).execute(alice, limit=10)
    with pytest.raises(PermissionDeniedError):
        UpdateUser(uow=uow).execute(alice, bob.id, is_admin=True)

    page = ListUsers(uow=uow, max_page_size=10).execute(admin, limit=2)
    promoted = UpdateUser(uow=uow).execute(admin, bob.id, is_admin=True)

    assert len(page.items) == 2
    assert page.next_cursor is not None
    assert promoted.is_admin


def test_admins_cannot_lock_themselves_out(uow: InMemoryUnitOfWork, admin: User) -> None:
    with pytest.raises(ConflictError):
        UpdateUser(uow=uow).execute(admin, admin.id, is_active=False)
    with pytest.raises(ConflictError):
        UpdateUser(uow=uow).execute(admin, admin.id, is_admin=False)


def test_updating_a_missing_user_is_not_found(uow: InMemoryUnitOfWork, admin: User) -> None:
    with pytest.raises(NotFoundError):
        UpdateUser(uow=uow).execute(admin, UserId(uuid4()), is_active=True)


def test_create_administrator_creates_or_promotes(
    uow: InMemoryUnitOfWork, hasher: ReversedPasswordHasher, clock: FixedClock, alice: User
) -> None:
    create = CreateAdministrator(uow=uow, hasher=hasher, clock=clock)
    with uow:
        current = uow.users.get(alice.id)
        current.deactivate()
        uow.users.update(current)
        uow.commit()

    promoted = create.execute(email="alice@example.com", password="new password")
    fresh = create.execute(email="ops@example.com", password="ops password")

    assert promoted.id == alice.id
    assert (promoted.is_admin, promoted.is_active) == (True, True)
    assert hasher.verify("new password", promoted.hashed_password)
    assert fresh.is_admin
