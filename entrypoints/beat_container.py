"""Beat's container: the core, whose maintenance jobs Beat runs in its own process.

Beat runs no task and serves nothing, so it needs nothing of its own beyond the core.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from entrypoints.container import CoreContainer

__all__ = ["BeatContainer"]


class BeatContainer(containers.DeclarativeContainer):
    core = providers.Container(CoreContainer)
