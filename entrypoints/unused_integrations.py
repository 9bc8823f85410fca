"""Third-party packages imported into a server process without the optional integrations
they look for at import and taskhub never uses."""

from __future__ import annotations

import importlib
import sys

# Each package, and the modules it imports (when installed) only to offer an integration.
UNUSED_INTEGRATIONS: dict[str, tuple[str, ...]] = {
    # redis-py 8's client metrics, through OpenTelemetry's metrics SDK (installed for
    # taskhub's tracing). They stay off unless the application starts them; taskhub's
    # metrics are Prometheus's. About 2 MB a process.
    "redis": ("opentelemetry.sdk.metrics",),
    # dependency-injector's wiring leaves Flask's request proxies alone when it inspects
    # modules, if werkzeug is installed (it is with the development tools, for schemathesis;
    # a production install has none). taskhub serves no Flask app. About 2 MB a process.
    "dependency_injector.wiring": ("werkzeug",),
}


def import_without_unused_integrations() -> None:
    """Import each package while its unused integrations read as not installed, which the
    packages handle as such; afterwards those modules are importable again for anything
    that wants them (taskhub's tracing does not, the test tools do). Call first, before
    anything imports these packages: a package already imported, or an integration already
    loaded, has nothing left to spare and is skipped.

    Where it matters: the API, the worker's main process and each of its pool processes
    (forked from it), Beat; about 4 MB each in a development install."""
    for package, integrations in UNUSED_INTEGRATIONS.items():
        if package in sys.modules or any(name in sys.modules for name in integrations):
            continue
        for name in integrations:
            sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            importlib.import_module(package)
        finally:
            for name in integrations:
                del sys.modules[name]
