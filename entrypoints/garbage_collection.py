"""How the long-running processes (the API, a worker's processes) collect garbage: what
startup built set aside, the young generation collected less often."""

from __future__ import annotations

import gc

# CPython's default is 700 allocations: a submission or a run allocates thousands of
# container objects, and collected that often the young generation took about a twentieth
# of the API's CPU (profiled under the submit load).
YOUNG_GENERATION_THRESHOLD = 20_000


def set_startup_aside() -> None:
    """Move every object alive now (modules, classes, the container's singletons) to the
    permanent generation, which no collection traverses, and collect young objects less
    often. Call it once the process is ready to serve, and in a forked child once its own
    setup is done: frozen objects a collection never writes to also stay shared with the
    parent's pages after the fork."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
