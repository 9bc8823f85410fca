"""The docs' webhook verification code accepts a real delivery, as sent over HTTP by the
webhook sender to a receiver on 127.0.0.1, and refuses one signed with another secret."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import pytest

from adapters.http.webhook_sender import AddressGuard, HttpxWebhookSender
from domain.task import TaskId
from domain.user import UserId
from domain.webhook import WebhookDelivery, WebhookMessage, new_secret
from tests.docs.processes import ROOT

Verify = Callable[[str, dict[str, str], bytes], bool]


def documented_verify() -> Verify:
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    section = text.split("## Verifying a delivery", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(block.group(1), namespace)  # noqa: S102 - the docs' own code
    verify: Verify = namespace["verify"]
    return verify


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_documented_verification_accepts_a_real_delivery_and_refuses_a_forged_one(
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = receiver
    secret = new_secret()
    delivery = WebhookDelivery.of_event(
        user_id=UserId(uuid4()),
        sequence=42,
        event_type="task.completed",
        task_id=TaskId(uuid4()),
        payload={"status": "completed", "result": {"slept": 1.0}},
        url=url,
        endpoint_id=None,
        at=datetime.now(UTC),
    )
    message = WebhookMessage.of(delivery, secret, at=datetime.now(UTC))
    sender = HttpxWebhookSender(AddressGuard(["127.0.0.1"]), timeout_seconds=5)

    answer = sender.send(url, headers=message.headers, body=message.body)

    verify = documented_verify()
    [(headers, body)] = received
    assert answer.status_code == 204
    assert headers["webhook-id"] == "42"
    assert verify(secret, headers, body)
    assert not verify(new_secret(), headers, body)
    assert not verify(secret, headers, body + b" ")
