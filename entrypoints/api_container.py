"""The API process's container: the core, and the resources the API holds while it serves.

It imports nothing of the worker (`tests/unit/test_process_imports.py` checks it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dependency_injector import containers, providers

from adapters.redis.event_channel import EventFanOut, PollingFanOut
from adapters.write_behind import WriteBehindDispatchRecorder
from application.ports import DispatchRecorder
from entrypoints.container import CoreContainer

__all__ = ["ApiContainer", "api_resources", "close_event_streams"]


def write_behind(inner: DispatchRecorder, interval: float) -> Iterator[DispatchRecorder]:
    """A resource: started by `init_resources`, closed (writing the flags still gathered) by
    `shutdown_resources`."""
    recorder = WriteBehindDispatchRecorder(inner=inner, interval=interval)
    recorder.start()
    try:
        yield recorder
    finally:
        recorder.close()


def event_fan_out_for(broker_url: str) -> EventFanOut | PollingFanOut:
    """Event streams follow the broker's Redis; without one, they poll the table."""
    if broker_url.startswith(("redis://", "rediss://")):
        return EventFanOut(broker_url)
    return PollingFanOut()


class ApiContainer(containers.DeclarativeContainer):
    core = providers.Container(CoreContainer)

    write_behind_dispatch_recorder = providers.Resource(
        write_behind,
        inner=core.record_dispatched_now,
        interval=core.settings.provided.dispatch_record_interval_seconds,
    )
    # One subscription per API process, shared by its event streams.
    event_fan_out = providers.Singleton(event_fan_out_for, core.settings.provided.broker_url)


@contextmanager
def api_resources(container: ApiContainer) -> Iterator[None]:
    """What the API process holds while it serves: dispatched flags of its submissions are
    written in batches (unless TASKHUB_DISPATCH_RECORD_INTERVAL_SECONDS is 0), and the
    database pool is closed at the end. A later use (tests serve several times from one
    container) starts afresh."""
    core = container.core
    batching = core.settings().dispatch_record_interval_seconds > 0
    if batching:
        core.dispatch_recorder.override(container.write_behind_dispatch_recorder)
        container.init_resources()
    try:
        yield
    finally:
        if batching:
            container.shutdown_resources()
            core.dispatch_recorder.reset_override()
        core.engine().dispose()


async def close_event_streams(container: ApiContainer) -> None:
    """The API's subscription ends with the process (or a test's app)."""
    await container.event_fan_out().close()
    container.event_fan_out.reset()
