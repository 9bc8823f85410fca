"""A Redis for the worked example's end-to-end test."""

from __future__ import annotations

from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported
