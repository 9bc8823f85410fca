"""redis-py imported into a server process without OpenTelemetry's metrics SDK, which it
would load for a feature of its own that taskhub never turns on."""

from __future__ import annotations

import importlib
import sys

METRICS_SDK = "opentelemetry.sdk.metrics"


def import_redis_without_its_metrics_sdk() -> None:
    """redis-py 8 imports OpenTelemetry's metrics SDK whenever it is installed (taskhub's
    tracing installs the SDK) for its own client metrics, which stay off unless the
    application starts them; taskhub's metrics are Prometheus's. Loaded, the module holds
    about 2 MB in every process: the API, the worker and each of its pool processes, Beat.

    redis is imported once here while that module reads as absent, which redis takes as
    "not installed"; afterwards the module is importable again for anything that wants it
    (the tracing does not). Call before anything imports redis; once it has, or the SDK is
    loaded already, there is nothing to spare and nothing is done."""
    if "redis" in sys.modules or METRICS_SDK in sys.modules:
        return
    sys.modules[METRICS_SDK] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        importlib.import_module("redis")
    finally:
        del sys.modules[METRICS_SDK]
