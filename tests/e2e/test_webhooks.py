"""Webhooks on a real stack: a receiver on 127.0.0.1 (allow-listed) that is down when a task
completes gets the retried delivery once it is back, signed so that the documented
verification accepts it, with the id the event stream gives the same event; the delivery log
shows the failed attempts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.docs.test_webhook_verification import documented_verify
from tests.e2e.api_client import ApiClient, wait_until
from tests.support.redis_server import HOST, free_port

RUN_TIMEOUT = 30.0

Received = list[tuple[dict[str, str], bytes]]


@contextmanager
def receiver_on(port: int, received: Received) -> Iterator[None]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"thanks")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, port), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def deliveries(client: ApiClient, webhook_id: str) -> list[dict[str, Any]]:
    response = client.http.get(f"/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_receiver_down_when_the_task_ends_gets_the_signed_retried_delivery_once_back(
    client: ApiClient,
) -> None:
    port = free_port()
    url = f"http://{HOST}:{port}/hooks"
    created = client.http.post("/webhooks", json={"url": url, "events": ["task.completed"]})
    assert created.status_code == 201, created.text
    webhook = created.json()

    task = client.submit("countdown", seconds=0.5, steps=2)
    client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)

    def failed_twice() -> list[dict[str, Any]] | None:
        items = deliveries(client, webhook["id"])
        return items if items and len(items[0]["attempts"]) >= 2 else None

    [while_down] = wait_until(failed_twice, timeout=RUN_TIMEOUT, what="two failed attempts")
    received: Received = []
    with receiver_on(port, received):
        wait_until(lambda: received or None, timeout=RUN_TIMEOUT, what="the retried delivery")

        def succeeded() -> dict[str, Any] | None:
            [item] = deliveries(client, webhook["id"])
            return item if item["status"] == "succeeded" else None

        done = wait_until(succeeded, timeout=RUN_TIMEOUT, what="the delivery to be logged done")

    [(headers, body)] = received
    assert documented_verify()(webhook["secret"], headers, body)
    assert headers["webhook-id"] == while_down["webhook_id"]
    assert while_down["status"] == "pending"
    assert all(a["status_code"] is None for a in while_down["attempts"])
    assert all("ConnectError" in a["error"] for a in while_down["attempts"])
    assert done["attempts"][-1]["status_code"] == 200
    assert done["attempts"][-1]["response"] == "thanks"
    assert done["payload"]["id"] == task["id"]
    assert done["payload"]["status"] == "completed"
    assert first_streamed_after(client, int(headers["webhook-id"]) - 1) == (
        headers["webhook-id"],
        "status",
    )


def first_streamed_after(client: ApiClient, last_event_id: int) -> tuple[str, str]:
    """The id and kind of the first event the stream gives after `last_event_id`."""
    fields: dict[str, str] = {}
    with client.http.stream(
        "GET", "/events", headers={"Last-Event-ID": str(last_event_id)}
    ) as stream:
        for line in stream.iter_lines():
            if not line and "id" in fields:
                break
            name, _, value = line.partition(":")
            if name in ("id", "event"):
                fields[name] = value.strip()
    return fields["id"], fields["event"]
