"""JoseTokenService: HS256 tokens, and every way a presented token can be wrong."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import uuid4

import pytest
from jose import jwt

from adapters.in_memory.clock import FixedClock
from adapters.security.jose_tokens import JoseTokenService
from domain.errors import AuthenticationError
from domain.user import UserId

SECRET = "s" * 32
LIFETIME = 900


def make_service(clock: FixedClock, **overrides: Any) -> JoseTokenService:
    options: dict[str, Any] = {"secret": SECRET, "lifetime_seconds": LIFETIME, "clock": clock}
    return JoseTokenService(**(options | overrides))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def tokens(clock: FixedClock) -> JoseTokenService:
    return make_service(clock)


@pytest.fixture
def user_id() -> UserId:
    return UserId(uuid4())


def claims_for(user_id: UserId, clock: FixedClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims = {"sub": str(user_id), "iat": now, "exp": now + LIFETIME, "jti": "a-jti"}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def signed(claims: dict[str, Any], *, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return str(jwt.encode(claims, secret, algorithm=algorithm))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_issued_token_verifies_to_its_user(tokens: JoseTokenService, user_id: UserId) -> None:
    access = tokens.issue(user_id, 0)

    assert tokens.verify(access.token).user_id == user_id
    assert access.expires_in == LIFETIME


def test_an_issued_token_carries_sub_iat_exp_and_a_random_jti(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    first = tokens.issue(user_id, 0).token
    second = tokens.issue(user_id, 0).token

    claims = jwt.get_unverified_claims(first)
    now = int(clock.now().timestamp())
    assert jwt.get_unverified_header(first)["alg"] == "HS256"
    assert claims["sub"] == str(user_id)
    assert (claims["iat"], claims["exp"]) == (now, now + LIFETIME)
    assert claims["jti"] != jwt.get_unverified_claims(second)["jti"]


def test_a_hand_made_token_with_every_claim_right_verifies(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    # The control for the refusals below: each breaks exactly one thing in this token.
    assert tokens.verify(signed(claims_for(user_id, clock))).user_id == user_id


def test_a_token_is_valid_until_it_expires(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    token = tokens.issue(user_id, 0).token

    clock.advance(seconds=LIFETIME - 1)
    assert tokens.verify(token).user_id == user_id
    clock.advance(seconds=60)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(token)


def test_a_token_without_exp_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    token = signed(claims_for(user_id, clock, exp=None))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


@pytest.mark.parametrize("missing", ["sub", "iat", "jti"])
def test_a_token_missing_a_required_claim_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId, missing: str
) -> None:
    token = signed(claims_for(user_id, clock, **{missing: None}))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


@pytest.mark.parametrize("exp", ["tomorrow", [1], True])
def test_a_token_whose_exp_is_not_a_time_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId, exp: object
) -> None:
    token = signed(claims_for(user_id, clock, exp=exp))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_a_token_issued_in_the_future_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    later = int(clock.now().timestamp()) + 3600
    token = signed(claims_for(user_id, clock, iat=later, exp=later + LIFETIME))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_a_tampered_token_is_refused(tokens: JoseTokenService, user_id: UserId) -> None:
    header, _, signature = tokens.issue(user_id, 0).token.split(".")
    forged = b64({"sub": str(uuid4()), "iat": 0, "exp": 2**40, "jti": "x"})

    with pytest.raises(AuthenticationError):
        tokens.verify(f"{header}.{forged}.{signature}")


def test_a_token_with_a_flipped_signature_is_refused(
    tokens: JoseTokenService, user_id: UserId
) -> None:
    token = tokens.issue(user_id, 0).token
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    with pytest.raises(AuthenticationError):
        tokens.verify(flipped)


def test_an_unsigned_alg_none_token_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_for(user_id, clock))}."

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_a_token_signed_with_another_algorithm_and_the_right_secret_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId, algorithm: str
) -> None:
    token = signed(claims_for(user_id, clock), algorithm=algorithm)

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_a_token_signed_with_another_secret_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    token = signed(claims_for(user_id, clock), secret="t" * 32)

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "....", "Bearer x.y.z", "é.é.é"])
def test_garbage_is_refused(tokens: JoseTokenService, garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(garbage)


@pytest.mark.parametrize(
    "subject",
    [
        "42",
        "not-a-uuid",
        "",
        "{12345678-1234-5678-1234-567812345678}",
        "12345678123456781234567812345678",
    ],
)
def test_a_subject_that_is_not_a_canonical_uuid_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId, subject: str
) -> None:
    token = signed(claims_for(user_id, clock, sub=subject))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_a_non_string_subject_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    token = signed(claims_for(user_id, clock, sub=12345))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_an_issuer_is_set_and_required_when_configured(clock: FixedClock, user_id: UserId) -> None:
    tokens = make_service(clock, issuer="taskhub")
    foreign = signed(claims_for(user_id, clock, iss="someone-else"))
    unnamed = signed(claims_for(user_id, clock))

    assert tokens.verify(tokens.issue(user_id, 0).token).user_id == user_id
    for token in (foreign, unnamed):
        with pytest.raises(AuthenticationError):
            tokens.verify(token)


def test_the_error_never_echoes_the_token(tokens: JoseTokenService) -> None:
    with pytest.raises(AuthenticationError) as caught:
        tokens.verify("eyJhbGciOiJIUzI1NiJ9.secret-looking.payload")

    assert "secret-looking" not in str(caught.value)
    assert caught.value.detail == "invalid token"


def test_a_secret_shorter_than_32_bytes_is_refused(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        make_service(clock, secret="s" * 31)


def test_the_secret_stays_out_of_the_repr(tokens: JoseTokenService) -> None:
    assert SECRET not in repr(tokens)


def test_a_lifetime_must_be_positive(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        make_service(clock, lifetime_seconds=0)


# --- token versions, lifetimes, length -------------------------------------------------------


def test_a_token_carries_the_version_it_was_issued_with(
    tokens: JoseTokenService, user_id: UserId
) -> None:
    assert tokens.verify(tokens.issue(user_id, 7).token).version == 7


def test_a_token_from_before_versions_counts_as_version_zero(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    assert tokens.verify(signed(claims_for(user_id, clock))).version == 0


@pytest.mark.parametrize("version", [-1, "1", True, 1.5])
def test_a_token_whose_version_is_not_a_count_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId, version: object
) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(signed(claims_for(user_id, clock, ver=version)))


def test_a_token_valid_for_longer_than_tokens_are_issued_for_is_refused(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    now = int(clock.now().timestamp())
    # Signed with the right key, but good for a year.
    token = signed(claims_for(user_id, clock, iat=now, exp=now + 365 * 24 * 3600))

    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_an_over_long_token_is_refused_before_it_is_parsed(
    tokens: JoseTokenService, clock: FixedClock, user_id: UserId
) -> None:
    padded = signed(claims_for(user_id, clock, padding="x" * 4000))

    with pytest.raises(AuthenticationError):
        tokens.verify(padded)


def test_a_token_is_checked_for_its_signature_once_for_all_its_uses(
    tokens: JoseTokenService, user_id: UserId, mocker: Any
) -> None:
    decode = mocker.spy(jwt, "decode")
    first, second = tokens.issue(user_id, 0).token, tokens.issue(user_id, 0).token

    for _ in range(3):
        assert tokens.verify(first).user_id == user_id
    tokens.verify(second)

    assert decode.call_count == 2


def test_a_token_that_verified_before_is_refused_once_it_has_expired(
    tokens: JoseTokenService, user_id: UserId, clock: FixedClock
) -> None:
    token = tokens.issue(user_id, 0).token
    tokens.verify(token)

    clock.advance(seconds=LIFETIME + 5)  # the leeway, and not a second more

    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(token)


def test_a_refused_token_is_checked_again_each_time_it_comes(
    tokens: JoseTokenService, user_id: UserId, clock: FixedClock, mocker: Any
) -> None:
    forged = signed(claims_for(user_id, clock), secret="x" * 32)
    decode = mocker.spy(jwt, "decode")

    for _ in range(2):
        with pytest.raises(AuthenticationError):
            tokens.verify(forged)

    assert decode.call_count == 2


def test_a_remembered_stream_token_still_opens_nothing_but_streams(
    tokens: JoseTokenService, user_id: UserId
) -> None:
    scoped = tokens.issue_scoped(user_id, 0, scope="events", lifetime_seconds=60).token
    tokens.verify(scoped, scope="events")

    with pytest.raises(AuthenticationError, match="event streams"):
        tokens.verify(scoped)
