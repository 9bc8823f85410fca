"""The wait imposed after failed logins, one rule for every LoginThrottle adapter."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from application.errors import TooManyAttemptsError


@dataclass(frozen=True, slots=True)
class LoginBackoff:
    free_attempts: int = 5
    first_delay: float = 1.0  # seconds, doubled by each failure past the free ones
    max_delay: float = 900.0
    # Failures older than this are forgotten; well past max_delay, so a persistent guesser
    # stays at the cap instead of earning free attempts back.
    forget_after: float = 24 * 3600.0

    def delay(self, failures: int) -> float:
        """Seconds between the last of `failures` consecutive failures and the next attempt."""
        past_free = failures - self.free_attempts
        if past_free < 0:
            return 0.0
        return min(self.first_delay * 2.0 ** min(past_free, 64), self.max_delay)

    def wait(self, failures: int, last_failure: datetime, now: datetime) -> float:
        """Seconds still to wait at `now`; 0 when an attempt is allowed."""
        return max(self.delay(failures) - (now - last_failure).total_seconds(), 0.0)


def refuse_while_waiting(wait: float) -> None:
    """Raise TooManyAttemptsError when `wait` seconds remain (rounded up for Retry-After)."""
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyAttemptsError(
            f"too many failed logins; try again in {seconds} seconds", retry_after=seconds
        )
