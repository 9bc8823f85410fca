"""Login throttling in this process's memory: for tests, and for a deployment of one API
process (several processes would each count separately; use Redis there)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from application.login_backoff import LoginBackoff, refuse_while_waiting
from application.ports import Clock, LoginThrottle

# Past this many keys, forgotten ones are dropped, so spraying addresses cannot grow the
# table without bound.
_PRUNE_ABOVE = 10_000


class InMemoryLoginThrottle(LoginThrottle):
    def __init__(self, backoff: LoginBackoff, clock: Clock) -> None:
        self.backoff = backoff
        self.clock = clock
        self.failures: dict[str, tuple[int, datetime]] = {}  # key -> (count, last failure)
        self._lock = threading.Lock()  # routes run in a thread pool

    def check(self, keys: Sequence[str]) -> None:
        now = self.clock.now()
        with self._lock:
            known = [self.failures[key] for key in keys if key in self.failures]
        waits = [self.backoff.wait(count, last, now) for count, last in known]
        refuse_while_waiting(max(waits, default=0.0))

    def record_failure(self, keys: Sequence[str]) -> None:
        now = self.clock.now()
        with self._lock:
            for key in keys:
                count, last = self.failures.get(key, (0, now))
                if self._forgotten(last, now):
                    count = 0
                self.failures[key] = (count + 1, now)
            if len(self.failures) > _PRUNE_ABOVE:
                for key, (_, last) in list(self.failures.items()):
                    if self._forgotten(last, now):
                        del self.failures[key]

    def reset(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self.failures.pop(key, None)

    def _forgotten(self, last: datetime, now: datetime) -> bool:
        return now - last > timedelta(seconds=self.backoff.forget_after)
