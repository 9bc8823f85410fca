"""Tracing's cost on the run path: the same no-op drain with the worker's tracing off and on
(every span exported over OTLP/HTTP, batched, to a sink on 127.0.0.1 that answers 200 and
keeps nothing), alternating worker restarts so each run starts alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.exports += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class SpanSink:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def exports(self) -> int:
        return int(self._server.exports)  # type: ignore[attr-defined]


@contextmanager
def span_sink() -> Iterator[SpanSink]:
    """An OTLP/HTTP receiver that drops what it receives and counts the export requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.exports = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SpanSink(server)
    finally:
        server.shutdown()
        server.server_close()


def tracing_env(sink: SpanSink) -> dict[str, str]:
    return {
        "TASKHUB_OTEL_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    }
