"""BcryptPasswordHasher: real bcrypt, at the cheapest cost except where the cost is the point."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from adapters.security.bcrypt_hasher import BcryptPasswordHasher
from domain.errors import ValidationError

FAST = 4
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def hasher() -> BcryptPasswordHasher:
    return BcryptPasswordHasher(rounds=FAST)


def test_a_hashed_password_verifies(hasher: BcryptPasswordHasher) -> None:
    hashed = hasher.hash(PASSWORD)

    assert hashed.startswith("$2b$04$")
    assert PASSWORD not in hashed
    assert hasher.verify(PASSWORD, hashed)


def test_hashing_twice_gives_different_salted_hashes(hasher: BcryptPasswordHasher) -> None:
    assert hasher.hash(PASSWORD) != hasher.hash(PASSWORD)


def test_a_wrong_password_does_not_verify(hasher: BcryptPasswordHasher) -> None:
    hashed = hasher.hash(PASSWORD)

    assert not hasher.verify("correct horse battery!", hashed)


def test_seventy_two_bytes_are_taken_whole(hasher: BcryptPasswordHasher) -> None:
    password = "é" * 36  # 72 bytes in UTF-8

    assert hasher.verify(password, hasher.hash(password))
    assert not hasher.verify("é" * 35 + "e", hasher.hash(password))


def test_a_password_over_72_bytes_is_refused_rather_than_truncated(
    hasher: BcryptPasswordHasher,
) -> None:
    with pytest.raises(ValidationError) as caught:
        hasher.hash("é" * 36 + "x")  # 73 bytes, though only 37 characters

    assert caught.value.field == "password"


def test_a_password_over_72_bytes_never_verifies_and_never_raises(
    hasher: BcryptPasswordHasher,
) -> None:
    hashed = hasher.hash("a" * 72)

    assert not hasher.verify("a" * 73, hashed)
    assert not hasher.verify("a" * 73, None)


@pytest.mark.parametrize(
    "malformed",
    ["", "not a hash", "$2b$04$short", "$2b$04$" + "?" * 53, "$2b$04$" + "é" * 53],
)
def test_a_malformed_hash_does_not_verify(hasher: BcryptPasswordHasher, malformed: str) -> None:
    assert not hasher.verify(PASSWORD, malformed)


def test_checking_an_unknown_account_says_no(hasher: BcryptPasswordHasher) -> None:
    assert not hasher.verify(PASSWORD, None)


def median_seconds(call: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return sorted(times)[runs // 2]


def test_an_unknown_account_costs_as_much_as_a_wrong_password() -> None:
    hasher = BcryptPasswordHasher(rounds=10)  # ~0.1 s: well above timer noise
    hashed = hasher.hash(PASSWORD)

    unknown = median_seconds(lambda: hasher.verify(PASSWORD, None))
    wrong = median_seconds(lambda: hasher.verify("wrong password", hashed))

    assert unknown >= 0.5 * wrong


def test_the_default_cost_is_at_least_12() -> None:
    hasher = BcryptPasswordHasher()

    assert hasher.rounds >= 12
    assert int(hasher.hash(PASSWORD).split("$")[2]) >= 12


@pytest.mark.parametrize("rounds", [3, 32])
def test_a_cost_bcrypt_cannot_use_is_refused(rounds: int) -> None:
    with pytest.raises(ValueError, match="rounds"):
        BcryptPasswordHasher(rounds=rounds)


def test_a_password_with_a_nul_is_refused_rather_than_cut_short(
    hasher: BcryptPasswordHasher,
) -> None:
    with pytest.raises(ValidationError) as error:
        hasher.hash("P\0" + PASSWORD)

    assert error.value.field == "password"


def test_a_password_repeated_after_a_nul_does_not_log_in_as_the_password(
    hasher: BcryptPasswordHasher,
) -> None:
    # bcrypt expands a key cyclically with its terminating NUL: "P\0P" is "P" to it.
    hashed = hasher.hash(PASSWORD)

    assert not hasher.verify(PASSWORD + "\0" + PASSWORD, hashed)
