"""The Celery application, built from settings; shared by the API (to publish) and workers."""

from __future__ import annotations

from celery import Celery

from adapters.celery import topology
from adapters.task_types.registry import TaskTypeRegistry
from config.settings import Settings

# Margin above the longest hard time limit: a late-acked message that outlives the broker's
# visibility timeout is delivered a second time while its first run is still going.
VISIBILITY_MARGIN_SECONDS = 600
DEFAULT_TIME_LIMIT_SECONDS = 3600


def visibility_timeout_for(registry: TaskTypeRegistry) -> float:
    limits = [spec.time_limit or DEFAULT_TIME_LIMIT_SECONDS for spec in registry.all()]
    return max([DEFAULT_TIME_LIMIT_SECONDS, *limits]) + VISIBILITY_MARGIN_SECONDS


def create_celery_app(settings: Settings, registry: TaskTypeRegistry) -> Celery:
    return topology.create_celery_app(
        broker_url=settings.broker_url,
        visibility_timeout=visibility_timeout_for(registry),
        sentinel_master=settings.broker_sentinel_master,
    )
