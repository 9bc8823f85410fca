"""OpenTelemetry tracing of every process: the exporter, the instrumentations, and the trace
id that logs and tasks carry; nothing of it is loaded while tracing is off (ADR 22)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console", "none")
_enabled = False


def tracing_enabled() -> bool:
    return _enabled


def start_tracing(exporter: str | None, *, service_name: str) -> bool:
    """Installs the process's tracer provider, exporting to `exporter`; False, and nothing
    imported, when it is unset or none. OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
    OTEL_TRACES_SAMPLER and OTEL_EXPORTER_OTLP_* apply as the SDK reads them."""
    global _enabled
    if exporter in (None, "none"):
        return False
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown span exporter {exporter!r}; one of {', '.join(EXPORTERS)}")
    from opentelemetry import trace
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    resource = resource.merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    processor: SpanProcessor
    if exporter == "console":
        # One compact line per span, flushed at once: greppable, and readable by a test.
        processor = SimpleSpanProcessor(
            ConsoleSpanExporter(
                out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n"
            )
        )
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _enabled = True
    logger.info("tracing on: spans of %s go to %s", service_name, exporter)
    return True


def trace_api(app: FastAPI, engine: Engine) -> None:
    """Spans for every request, every SQL statement and every message published from the
    API (with the trace context in the message's headers)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # Not a span per ASGI message (receive, send): twice as many spans, no news in them.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="metrics,health", exclude_spans=["receive", "send"]
    )
    _trace_dependencies(engine)


def trace_worker(app: Celery, engine: Engine) -> None:
    """Spans for every run (a child of the span that published its message, whose context
    the message's headers carry), every SQL statement, and every message it publishes."""
    del app  # the instrumentation hooks Celery's signals, for every app of the process
    _trace_dependencies(engine)


def _trace_dependencies(engine: Engine) -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    _trace_statements(engine)
    RedisInstrumentor().instrument()
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]


def current_trace_id() -> str | None:
    """The current span's trace id, 32 hex digits, or None (tracing off, or no span)."""
    if not _enabled:
        return None
    from opentelemetry import trace

    context: Any = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def _trace_statements(engine: Engine) -> None:
    """A client span per SQL statement. Our own rather than opentelemetry-instrumentation-
    sqlalchemy, which refuses SQLAlchemy 2.1 and needs greenlet for its asyncio half."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from sqlalchemy import event

    tracer = trace.get_tracer("taskhub.sql")
    system = engine.dialect.name
    # A file path names no database a reader would recognise: SQLite spans say "sqlite".
    database = system if system == "sqlite" else (engine.url.database or system)

    @event.listens_for(engine, "before_cursor_execute")
    def started(_conn: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        context._taskhub_span = tracer.start_span(
            f"{verb} {database}",
            kind=SpanKind.CLIENT,
            attributes={"db.system": system, "db.statement": statement},
        )

    @event.listens_for(engine, "after_cursor_execute")
    def ended(_conn: Any, _cursor: Any, _s: str, _p: Any, context: Any, _m: Any) -> None:
        span = getattr(context, "_taskhub_span", None)
        if span is not None:
            span.end()

    @event.listens_for(engine, "handle_error")
    def failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, "_taskhub_span", None) if context is not None else None
        if span is not None:
            span.record_exception(exception_context.original_exception)
            span.set_status(Status(StatusCode.ERROR))
            span.end()
