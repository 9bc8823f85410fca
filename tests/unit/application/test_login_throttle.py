"""Logging in is throttled per account and client address together, and per client address,
before the password check; failures elsewhere never keep an account's owner out."""

from __future__ import annotations

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.in_memory.security import InMemoryTokenService, ReversedPasswordHasher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import TooManyAttemptsError
from application.login_backoff import LoginBackoff
from application.use_cases.authenticate import Authenticate
from application.use_cases.register_user import RegisterUser
from domain.errors import AuthenticationError

PASSWORD = "correct horse"
EMAIL = "gina@example.com"
BACKOFF = LoginBackoff(free_attempts=5, first_delay=1.0, max_delay=900.0)
PAIR = f"account:{EMAIL} ip:10.0.0.1"


class CountingHasher(ReversedPasswordHasher):
    """Counts every password check, the dummy ones for unknown accounts included."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0

    def verify(self, password: str, hashed: str | None) -> bool:
        self.verified += 1
        return super().verify(password, hashed)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def throttle(clock: FixedClock) -> InMemoryLoginThrottle:
    return InMemoryLoginThrottle(BACKOFF, clock)


@pytest.fixture
def login(
    uow: InMemoryUnitOfWork,
    hasher: CountingHasher,
    tokens: InMemoryTokenService,
    throttle: InMemoryLoginThrottle,
    clock: FixedClock,
) -> Authenticate:
    RegisterUser(uow=uow, hasher=hasher, clock=clock, allow_signup=True).execute(
        email=EMAIL, password=PASSWORD
    )
    return Authenticate(uow=uow, hasher=hasher, tokens=tokens, throttle=throttle)


def fail(login: Authenticate, times: int, *, email: str = EMAIL, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            login.execute(email=email, password="wrong guess", client_ip=ip)


def refusal(login: Authenticate, *, email: str = EMAIL, ip: str = "10.0.0.1") -> int:
    """The Retry-After of a refused attempt (with the right password, to show it is ignored)."""
    with pytest.raises(TooManyAttemptsError) as error:
        login.execute(email=email, password=PASSWORD, client_ip=ip)
    return error.value.retry_after


# --- the back-off --------------------------------------------------------------------------


def test_five_failures_are_free_and_the_sixth_attempt_must_wait(login: Authenticate) -> None:
    fail(login, 5)

    assert refusal(login) == 1


def test_the_wait_doubles_with_each_failure_past_the_free_ones(
    login: Authenticate, clock: FixedClock
) -> None:
    waits = []
    fail(login, 5)

    for _ in range(5):
        waits.append(refusal(login))
        clock.advance(seconds=waits[-1])
        fail(login, 1)

    assert waits == [1, 2, 4, 8, 16]


def test_the_wait_is_capped_at_fifteen_minutes_and_never_a_lock_for_good(
    login: Authenticate, clock: FixedClock
) -> None:
    fail(login, 5)
    for _ in range(30):
        clock.advance(seconds=900)
        fail(login, 1)

    assert refusal(login) == 900
    clock.advance(seconds=900)
    assert login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.0.1").token


def test_retry_after_counts_down_as_time_passes(login: Authenticate, clock: FixedClock) -> None:
    fail(login, 5)
    clock.advance(seconds=1)
    fail(login, 1)  # 2 s to wait from here

    clock.advance(seconds=0.5)

    assert refusal(login) == 2  # 1.5 s, rounded up
    clock.advance(seconds=1)
    assert refusal(login) == 1


def test_failures_are_forgotten_a_day_after_the_last_one(
    login: Authenticate, clock: FixedClock, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 5)

    clock.advance(seconds=BACKOFF.forget_after + 1)
    fail(login, 1)

    assert throttle.failures[PAIR][0] == 1


# --- bcrypt and the real owner -------------------------------------------------------------


def test_no_password_is_checked_while_throttled(
    login: Authenticate, hasher: CountingHasher
) -> None:
    fail(login, 5)
    checked = hasher.verified

    for _ in range(20):
        refusal(login)

    assert hasher.verified == checked == 5


def test_the_real_owner_logs_in_once_the_delay_has_passed(
    login: Authenticate, clock: FixedClock
) -> None:
    fail(login, 5)
    for wait in (1, 2):
        clock.advance(seconds=wait)
        fail(login, 1)
    assert refusal(login) == 4

    clock.advance(seconds=3.9)
    assert refusal(login) == 1
    clock.advance(seconds=0.1)
    token = login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.0.1")

    assert token.token


def test_a_success_clears_the_account_and_address_failures_but_not_the_addresss(
    login: Authenticate, clock: FixedClock, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 4)

    login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.0.1")

    assert PAIR not in throttle.failures
    assert throttle.failures["ip:10.0.0.1"][0] == 4
    fail(login, 1)
    assert refusal(login) == 1  # the address's own count goes on


# --- what is counted -----------------------------------------------------------------------


def test_an_address_that_failed_at_an_account_waits_even_with_the_right_password(
    login: Authenticate, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 5)
    throttle.reset(["ip:10.0.0.1"])  # only the account-and-address count is left

    assert refusal(login) == 1


def test_guesses_at_an_account_from_other_addresses_never_keep_its_owner_out(
    login: Authenticate, clock: FixedClock
) -> None:
    for n in range(20):
        fail(login, 5, ip=f"10.0.1.{n}")
        assert refusal(login, ip=f"10.0.1.{n}") == 1

    assert login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.2.1").token


def test_one_guess_every_fifteen_minutes_does_not_keep_the_owner_out(
    login: Authenticate, clock: FixedClock
) -> None:
    fail(login, 5, ip="10.6.6.6")
    for _ in range(12):
        clock.advance(seconds=900)
        fail(login, 1, ip="10.6.6.6")

    assert refusal(login, ip="10.6.6.6") == 900
    assert login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.0.1").token


def test_an_address_is_throttled_whatever_accounts_it_guesses_at(login: Authenticate) -> None:
    for n in range(5):
        fail(login, 1, email=f"user{n}@example.com", ip="10.6.6.6")

    assert refusal(login, ip="10.6.6.6") == 1
    assert login.execute(email=EMAIL, password=PASSWORD, client_ip="10.0.0.9").token


def test_unknown_accounts_are_throttled_like_known_ones(
    login: Authenticate, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 5, email="nobody@example.com")
    throttle.reset(["ip:10.0.0.1"])  # only the account-and-address count is left

    assert refusal(login, email="NOBODY@example.com") == 1


def test_the_account_key_is_the_normalised_email(
    login: Authenticate, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 1, email="  GINA@Example.com ")

    assert set(throttle.failures) == {PAIR, "ip:10.0.0.1"}


def test_a_malformed_email_counts_against_the_address_only(
    login: Authenticate, throttle: InMemoryLoginThrottle
) -> None:
    fail(login, 1, email="not an email")

    assert set(throttle.failures) == {"ip:10.0.0.1"}


def test_without_a_client_address_only_the_account_is_counted(
    login: Authenticate, throttle: InMemoryLoginThrottle
) -> None:
    with pytest.raises(AuthenticationError):
        login.execute(email=EMAIL, password="wrong guess")

    assert set(throttle.failures) == {f"account:{EMAIL}"}
