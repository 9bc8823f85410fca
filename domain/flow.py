"""Flow control's pure rules: concurrency keys and their slots, the order held tasks are
released in, and the weighted round-robin that shares a queue fairly between owners."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.errors import ValidationError
from domain.text import check_plain_text

# What a client may give; the stored key adds the rule's scope in front.
MAX_CONCURRENCY_KEY_LENGTH = 200
_MAX_STORED_KEY_LENGTH = 300
_PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}

K = TypeVar("K")


class HoldReason(enum.StrEnum):
    """Why a pending task is held in the database instead of being published."""

    CONCURRENCY = "concurrency"
    # The queue's broker backlog is over the fair-share threshold: released round-robin by
    # owner as it drains (application/use_cases/release_held_tasks.py).
    FAIR_SHARE = "fair_share"
    # The task type's rate limit: released as its token bucket allows.
    RATE_LIMIT = "rate_limit"


@dataclass(frozen=True, slots=True)
class Concurrency:
    """The concurrency key a task runs under and how many tasks of that key may hold a
    slot (run, or be on their way to a worker) at once; a limit of 1 is mutual exclusion."""

    key: str
    limit: int

    def __post_init__(self) -> None:
        check_plain_text(self.key, field="concurrency_key")
        if not self.key.strip():
            raise ValidationError("concurrency_key must not be blank", field="concurrency_key")
        if len(self.key) > _MAX_STORED_KEY_LENGTH:
            raise ValidationError(
                f"concurrency_key must be at most {_MAX_STORED_KEY_LENGTH} characters",
                field="concurrency_key",
            )
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValidationError("a concurrency limit must be at least 1", field="concurrency")


@dataclass(frozen=True, slots=True)
class ConcurrencyRule:
    """A task type's concurrency rule. The key is `scope:` followed by the value of the
    argument `argument` (`model:<id>`), or by the key the submission gives when
    `explicit_key` allows one; with neither, the task runs unrestricted. Several types
    sharing a scope share its slots (validating and deploying one model)."""

    scope: str
    limit: int = 1
    argument: str | None = None
    explicit_key: bool = False

    def concurrency(self, kwargs: Mapping[str, Any], explicit: str | None) -> Concurrency | None:
        """The task's concurrency, from its validated arguments or the explicit key.

        Raises ValidationError (field `concurrency_key`) for an explicit key the rule does
        not allow, or one that is blank, too long or not plain text.
        """
        if explicit is not None:
            if not self.explicit_key:
                raise ValidationError(
                    "this task type does not take a concurrency_key", field="concurrency_key"
                )
            Concurrency(explicit, self.limit)  # the client's part is checked on its own
            if len(explicit) > MAX_CONCURRENCY_KEY_LENGTH:
                raise ValidationError(
                    f"concurrency_key must be at most {MAX_CONCURRENCY_KEY_LENGTH} characters",
                    field="concurrency_key",
                )
            return Concurrency(f"{self.scope}:{explicit}", self.limit)
        if self.argument is not None and kwargs.get(self.argument) is not None:
            return Concurrency(f"{self.scope}:{kwargs[self.argument]}", self.limit)
        return None


_PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE_LIMIT = re.compile(r"([1-9][0-9]{0,5})/([smh])")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` task starts of a type per `period_seconds`, across every worker:
    written "10/s", "100/m" or "5/h". Released evenly, one every `interval` seconds, with
    no burst beyond one."""

    count: int
    period_seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Raises ValidationError (field `rate_limit`) for anything but `<count>/<s|m|h>`."""
        match = _RATE_LIMIT.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValidationError(
                'a rate limit is "<count>/s", "<count>/m" or "<count>/h", e.g. "10/s"',
                field="rate_limit",
            )
        return cls(int(match.group(1)), _PERIODS[match.group(2)])

    @property
    def interval(self) -> float:
        """Seconds between two releases."""
        return self.period_seconds / self.count

    def reserve(
        self, next_free: float, now: float, count: int, horizon: float
    ) -> tuple[list[float], float]:
        """Up to `count` permits, as delays from `now`, when the bucket's next permit is free
        at `next_free` (seconds on the same clock; in the past: free now, no credit kept
        for the idle time), none later than `horizon` from now; and the new `next_free`.
        A generic cell rate algorithm: one permit every `interval`, a burst of one."""
        delays: list[float] = []
        at = max(next_free, now)
        while len(delays) < count and at - now <= horizon:
            delays.append(at - now)
            at += self.interval
        return delays, at

    def __str__(self) -> str:
        unit = {v: k for k, v in _PERIODS.items()}[self.period_seconds]
        return f"{self.count}/{unit}"


def free_slots(limit: int, holders: int) -> int:
    """How many more tasks of a key may take a slot. Never negative: a key over its limit
    (a lowered limit) releases nothing until enough holders have ended."""
    return max(0, limit - holders)


def release_rank(priority: str, created_at: Any) -> tuple[int, Any]:
    """The order held tasks are released in: higher priority first, then the oldest."""
    return (_PRIORITY_RANK.get(priority, len(_PRIORITY_RANK)), created_at)


def weighted_round_robin(
    backlogs: Mapping[K, int],
    weights: Mapping[K, int],
    count: int,
    *,
    order: Sequence[K] = (),
    credit: dict[K, int] | None = None,
) -> list[K]:
    """The owners of the next `count` releases, when each owner in `backlogs` has that many
    tasks held and `weights` gives owners a share (default 1).

    Smooth weighted round-robin (as nginx's upstreams): each step every owner with a
    backlog gains its weight in credit, the one with the most credit (ties by `order`,
    then first seen) is chosen and pays the total weight of those competing. Over any run
    of releases an owner gets its weight's share, and between two of a waiting owner's
    releases at most `starvation_bound` others' go (see there).

    `credit`, when given, carries the owners' credit from one call to the next and is
    updated in place, so a sequence of small calls (one per release round) is one
    round-robin, not a restart in which the first owner always wins; an owner with nothing
    held left drops out of it.
    """
    remaining = {owner: n for owner, n in backlogs.items() if n > 0}
    position = {owner: i for i, owner in enumerate(order)}
    if credit is None:
        credit = {}
    for owner in list(credit):
        if owner not in remaining:
            del credit[owner]
    for owner in remaining:
        credit.setdefault(owner, 0)
    chosen: list[K] = []
    while remaining and len(chosen) < count:
        total = 0
        for owner in remaining:
            weight = _weight(weights, owner)
            credit[owner] += weight
            total += weight
        owner = max(
            remaining,
            key=lambda o: (credit[o], -position.get(o, len(position))),
        )
        credit[owner] -= total
        chosen.append(owner)
        remaining[owner] -= 1
        if not remaining[owner]:
            del remaining[owner]
            del credit[owner]
    return chosen


def starvation_bound(weights: Mapping[K, int], owner: K, competitors: Iterable[K]) -> int:
    """At most how many releases of other owners come before `owner`'s next one, while it
    has tasks held: each other owner o gets at most ceil(2 * w_o / w_owner) + 1 releases in
    that time. With a fixed set of owners smooth weighted round-robin keeps every credit
    within one total weight of its share, which gives ceil(w_o / w_owner) + 1; an owner
    whose backlog runs out leaves with its credit, and the others' shares shift by up to
    as much again (the property test, owners running out included, found gaps past the
    first bound and none past this one)."""
    mine = _weight(weights, owner)
    return sum(
        math.ceil(2 * _weight(weights, other) / mine) + 1 for other in competitors if other != owner
    )


def _weight(weights: Mapping[K, int], owner: K) -> int:
    return max(1, int(weights.get(owner, 1)))


class FairShareTurns:
    """Weighted round-robin kept going across release rounds, one per `group` (a
    priority): each round releases a few tasks, and who is next carries over, so owners
    take turns round after round instead of the first one winning every small round."""

    def __init__(self) -> None:
        self._credit: dict[Any, dict[Any, int]] = {}

    def next(
        self, group: Any, backlogs: Mapping[K, int], weights: Mapping[K, int], count: int
    ) -> list[K]:
        """The owners of the next `count` releases of `group` (see weighted_round_robin)."""
        credit: dict[K, int] = self._credit.setdefault(group, {})
        # Ties go the same way every round, whatever order the backlogs come in: the
        # round-robin then alternates instead of giving one owner two turns in a row.
        order = sorted(backlogs, key=str)
        chosen = weighted_round_robin(backlogs, weights, count, order=order, credit=credit)
        if not credit:
            del self._credit[group]
        return chosen


class ReleaseWindows:
    """How many messages each crowded queue's broker list may hold after a fair-share
    release: twice what its workers took from it since the previous release (so the list
    does not run dry before the next one), at least `floor` (the fair-share threshold) and
    at most `ceiling`. A list found empty ran dry (the workers waited, so what they took
    is only a lower bound): its window grows fourfold. A released task then waits behind about
    two release intervals' worth of work, whatever the tasks' length."""

    def __init__(self, floor: int, ceiling: int) -> None:
        self.floor = floor
        self.ceiling = max(floor, ceiling)
        self._windows: dict[str, int] = {}
        self._left: dict[str, int] = {}  # the list's depth after the previous release

    def room(self, queue: str, depth: int) -> int:
        """How many tasks to release to `queue`, whose list holds `depth` messages now;
        say how many were released with `released`."""
        window = self._windows.get(queue, self.floor)
        taken = max(0, self._left.get(queue, depth) - depth)
        # Run dry, what was taken is a lower bound: grow fast, the workers are waiting.
        window = max(window * 4, 2 * taken) if depth == 0 else 2 * taken
        window = min(self.ceiling, max(self.floor, window))
        self._windows[queue] = window
        self._left[queue] = depth
        return max(0, window - depth)

    def released(self, queue: str, count: int) -> None:
        """`count` tasks were published to `queue` after `room` was asked."""
        self._left[queue] = self._left.get(queue, 0) + count
