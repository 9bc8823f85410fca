"""Access tokens as HS256 JSON Web Tokens, signed and checked with python-jose."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeGuard
from uuid import UUID

from jose import jwt
from jose.exceptions import JWTError

from application.ports import AccessToken, Clock, TokenService, TokenSubject
from domain.errors import AuthenticationError
from domain.user import UserId

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash output
# Ours are about 300 characters; a longer one is refused before any parsing or hashing.
MAX_TOKEN_LENGTH = 2048
_INVALID = "invalid token"
# A client sends the same token with every request until it expires. Its signature and
# claims are checked once and remembered, by the whole token, for its next uses: 30 us of
# CPU a request in process, 4 once remembered (py-spy had python-jose's decode at 6% of the
# API's time holding the GIL under POST /tasks). Its times are judged at every use, and
# whom it names is read from the database by every request that needs the user. Only
# tokens that passed are kept, so a stream of forged ones costs nothing to remember.
VERIFIED_TOKENS_KEPT = 256


class JoseTokenService(TokenService):
    """Issues tokens carrying sub, ver (the user's token version), iat, exp and jti (and iss
    when configured). A token without `ver` (issued before versions) counts as version 0.

    Expiry is judged by the injected clock, not by python-jose, which reads the system
    time: requiring `exp` through jose's options would switch its own check back on.
    """

    def __init__(
        self,
        secret: str,
        lifetime_seconds: int,
        clock: Clock,
        issuer: str | None = None,
        *,
        leeway_seconds: int = 5,
    ) -> None:
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the token secret must be at least {MIN_SECRET_BYTES} bytes; "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if lifetime_seconds <= 0:
            raise ValueError("the token lifetime must be a positive number of seconds")
        self._secret = secret
        self._lifetime = lifetime_seconds
        self._clock = clock
        self._issuer = issuer
        self._leeway = leeway_seconds
        self._verified_claims = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._decode)

    def __repr__(self) -> str:
        return f"JoseTokenService(lifetime_seconds={self._lifetime}, issuer={self._issuer!r})"

    def issue(self, user_id: UserId, version: int) -> AccessToken:
        issued_at = self._now()
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "ver": version,
            "iat": issued_at,
            "exp": issued_at + self._lifetime,
            "jti": secrets.token_urlsafe(16),
        }
        if self._issuer is not None:
            claims["iss"] = self._issuer
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return AccessToken(token=token, expires_in=self._lifetime)

    def issue_scoped(
        self, user_id: UserId, version: int, *, scope: str, lifetime_seconds: int
    ) -> AccessToken:
        issued_at = self._now()
        lifetime = min(lifetime_seconds, self._lifetime)
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "ver": version,
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if self._issuer is not None:
            claims["iss"] = self._issuer
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return AccessToken(token=token, expires_in=lifetime)

    def verify(self, token: str, *, scope: str | None = None) -> TokenSubject:
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError(_INVALID)
        claims = self._verified_claims(token)
        self._check_times(claims)
        granted = claims.get("scope")
        # A scoped token (a stream token, which travels in URLs and logs) opens nothing else.
        if granted is not None and granted != scope:
            raise AuthenticationError("this token is only good for reading event streams")
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise AuthenticationError(_INVALID)
        return TokenSubject(user_id=self._user_id(claims["sub"]), version=version)

    def _decode(self, token: str) -> Mapping[str, Any]:
        """The token's claims, read-only: the same mapping is handed to each later use."""
        options = {
            "verify_exp": False,  # checked against our clock in _check_times
            "require_iat": True,
            "require_sub": True,
            "require_jti": True,
            "require_iss": self._issuer is not None,
        }
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], issuer=self._issuer, options=options
            )
        # jose lets a few malformed inputs through as TypeError or ValueError.
        except (JWTError, TypeError, ValueError) as exc:
            raise AuthenticationError(_INVALID) from exc
        return MappingProxyType(claims)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        exp, iat = claims.get("exp"), claims.get("iat")
        if not (_is_timestamp(exp) and _is_timestamp(iat)):
            raise AuthenticationError(_INVALID)
        now = self._now()
        if iat > now + self._leeway:
            raise AuthenticationError(_INVALID)
        if exp <= now - self._leeway:
            raise AuthenticationError("token has expired")
        # Signed by us yet valid for longer than we issue: made with a leaked key, or under a
        # longer lifetime since shortened. Either way not a token to honour.
        if exp - iat > self._lifetime:
            raise AuthenticationError(_INVALID)

    @staticmethod
    def _user_id(subject: str) -> UserId:
        try:
            user_id = UUID(subject)
        except ValueError as exc:
            raise AuthenticationError(_INVALID) from exc
        # Only the canonical form we issue, not braces, URNs or bare hex.
        if str(user_id) != subject:
            raise AuthenticationError(_INVALID)
        return UserId(user_id)

    def _now(self) -> int:
        return int(self._clock.now().timestamp())


def _is_timestamp(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
