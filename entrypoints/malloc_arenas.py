"""Caps glibc's malloc arenas in the API process, which holds freed memory per thread otherwise."""

from __future__ import annotations

import ctypes
import os

ENV = "MALLOC_ARENA_MAX"
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def cap_malloc_arenas(limit: int = 2) -> bool:
    """Limit this process (mallopt) and the processes it starts (the environment variable,
    read by glibc at their start) to `limit` arenas, unless the operator set one already.

    glibc gives each thread that allocates concurrently an arena of its own, up to eight
    per core, and keeps what is freed there for reuse: the API's request threads grew its
    resident memory by about 20 MB under load (measured: 170 MB with the default, 148 MB
    with 2), for no measurable speed. Returns whether the cap was applied; False on a C
    library without it (musl) or when MALLOC_ARENA_MAX is already set.
    """
    if ENV in os.environ:
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None or mallopt(_M_ARENA_MAX, limit) != 1:
        return False
    os.environ[ENV] = str(limit)
    return True
