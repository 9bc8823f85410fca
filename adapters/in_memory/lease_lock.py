"""A lease lock in one process's memory: the twin of the Redis lease lock for tests, and the
stand-in when the broker is not Redis (then each process holds its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from application.ports import Lease, LeaseLock


@dataclass
class LeaseBoard:
    """What a lock server would hold: per lock name, the holder, its expiry on a monotonic
    clock, and the generation counter. Shared by the InMemoryLeaseLocks of one test."""

    monotonic: Callable[[], float] = time.monotonic
    holders: dict[str, tuple[object, float]] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)
    mutex: threading.Lock = field(default_factory=threading.Lock)


class InMemoryLeaseLock(LeaseLock):
    """Same rules as RedisLeaseLock: expiry measured on a monotonic clock (never the wall
    clock), a new generation for every new holder, renewal only by the current holder."""

    def __init__(self, board: LeaseBoard, name: str, *, ttl: float) -> None:
        self._board = board
        self._name = name
        self._ttl = ttl
        self._me = object()
        self._lease: Lease | None = None

    def hold(self) -> Lease | None:
        board = self._board
        with board.mutex:
            now = board.monotonic()
            holder = board.holders.get(self._name)
            live = holder is not None and holder[1] > now
            if live and holder is not None and holder[0] is not self._me:
                self._lease = None
                return None
            if not live or self._lease is None:
                # Taken afresh (never held, or expired meanwhile): a new generation.
                board.generations[self._name] = board.generations.get(self._name, 0) + 1
                self._lease = Lease(generation=board.generations[self._name])
            board.holders[self._name] = (self._me, now + self._ttl)
            return self._lease

    def release(self) -> None:
        board = self._board
        with board.mutex:
            holder = board.holders.get(self._name)
            if holder is not None and holder[0] is self._me:
                del board.holders[self._name]
            self._lease = None
