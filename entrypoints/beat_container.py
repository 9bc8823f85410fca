"""Beat's container: the core, whose maintenance jobs Beat runs in its own process, and the
scheduler loop (Beat runs one; `taskhub scheduler` runs one alone).

The leases make each a singleton duty: one Beat runs the maintenance jobs, one scheduler
fires the schedules, however many are started.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.in_memory.lease_lock import InMemoryLeaseLock, LeaseBoard
from adapters.redis.lease_lock import RedisLeaseLock
from application.ports import LeaseLock
from entrypoints.container import CoreContainer
from entrypoints.worker.scheduler import SchedulerLoop

__all__ = ["BeatContainer"]

# One board per process for the in-memory lease locks (a broker other than Redis).
_LOCAL_LEASES = LeaseBoard()


def lease_lock_for(broker_url: str, name: str, ttl: float) -> LeaseLock:
    """In the broker's Redis when there is one, so every Beat and scheduler process contends
    for the same lease; otherwise in this process's memory: then run one Beat only."""
    if broker_url.startswith(("redis://", "rediss://")):
        return RedisLeaseLock.from_url(broker_url, name, ttl=ttl)
    return InMemoryLeaseLock(_LOCAL_LEASES, name, ttl=ttl)


class BeatContainer(containers.DeclarativeContainer):
    core = providers.Container(CoreContainer)

    # One lease per singleton duty: the scheduler loop, and Beat's relay and reaper jobs.
    scheduler_lease = providers.Singleton(
        lease_lock_for,
        core.settings.provided.broker_url,
        "scheduler",
        core.settings.provided.scheduler_lease_seconds,
    )
    maintenance_lease = providers.Singleton(
        lease_lock_for,
        core.settings.provided.broker_url,
        "maintenance",
        core.settings.provided.scheduler_lease_seconds,
    )
    scheduler_loop = providers.Factory(
        SchedulerLoop,
        lease=scheduler_lease,
        release_due_tasks=core.release_due_tasks.provider,
        fire_due_schedules=core.fire_due_schedules.provider,
        claim_fence=core.claim_scheduler_fence.provider,
        tick_seconds=core.settings.provided.scheduler_tick_seconds,
    )
