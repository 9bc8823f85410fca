"""Signing oneself up: throttled per client address, and answered alike whether or not the
email already had an account."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import TooManyAttemptsError
from application.ports import LoginThrottle
from application.use_cases.register_user import RegisterUser
from domain.errors import AlreadyExistsError
from domain.user import Email


@dataclass(frozen=True, slots=True)
class SignUp:
    """Rules: RegisterUser's for an anonymous caller, plus: every sign-up counts against its
    client address, and past the throttle's free ones each must wait (429), so nobody can
    create accounts, or have bcrypt hashes computed, in bulk. An email that already has an
    account is answered exactly as a new one (no error, the same bcrypt work, nothing stored),
    so sign-up never confirms that an account exists; its owner's password is untouched.

    Returns the normalised email. Raises ValidationError, PermissionDeniedError (sign-up
    closed), TooManyAttemptsError.
    """

    register: RegisterUser
    throttle: LoginThrottle

    def execute(self, *, email: str, password: str, client_ip: str | None = None) -> Email:
        keys = [f"sign-up ip:{client_ip}"] if client_ip else []
        try:
            self.throttle.check(keys)
        except TooManyAttemptsError as exc:
            raise TooManyAttemptsError(
                f"too many sign-ups from this address; try again in {exc.retry_after} seconds",
                retry_after=exc.retry_after,
            ) from None
        # Counted before the work, successful or not, so a burst cannot slip past the count.
        self.throttle.record_failure(keys)
        try:
            user = self.register.execute(email=email, password=password)
        except AlreadyExistsError:
            return Email(email)
        return user.email
