"""The webhook sender's address guard: only public addresses, after resolving the name, unless
the host is allow-listed; and the sender records a refused or unreachable target as an answer."""

from __future__ import annotations

import pytest

from adapters.http.webhook_sender import AddressGuard, ForbiddenAddressError, HttpxWebhookSender


def resolving_to(*addresses: str) -> AddressGuard:
    return AddressGuard(resolver=lambda host, port: list(addresses))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - the address under test
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_a_name_resolving_to_an_inner_address_is_refused(address: str) -> None:
    with pytest.raises(ForbiddenAddressError):
        resolving_to(address).check("https://hooks.example.com/in")


def test_one_inner_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(ForbiddenAddressError):
        resolving_to("93.184.216.34", "10.0.0.1").check("https://hooks.example.com/in")


def test_a_public_address_is_allowed() -> None:
    resolving_to("93.184.216.34", "2606:2800:220:1::1").check("https://hooks.example.com/in")


def test_an_ip_literal_is_judged_as_resolved() -> None:
    guard = AddressGuard()
    with pytest.raises(ForbiddenAddressError):
        guard.check("http://127.0.0.1:8080/in")
    with pytest.raises(ForbiddenAddressError):
        guard.check("http://[::1]/in")


def test_an_allow_listed_host_is_allowed_whatever_it_resolves_to() -> None:
    AddressGuard(["127.0.0.1", "Receiver.Internal"]).check("http://127.0.0.1:9/in")
    AddressGuard(["receiver.internal"], resolver=lambda h, p: ["10.0.0.5"]).check(
        "https://RECEIVER.internal/in"
    )


def test_the_sender_answers_a_refused_address_without_sending() -> None:
    sender = HttpxWebhookSender(AddressGuard(), timeout_seconds=1)

    answer = sender.send("http://127.0.0.1:9/in", headers={}, body=b"{}")

    assert answer.status_code is None
    assert answer.error is not None
    assert answer.error.startswith("refused:")


def test_the_sender_answers_an_unreachable_receiver_with_the_error() -> None:
    sender = HttpxWebhookSender(AddressGuard(["127.0.0.1"]), timeout_seconds=1)

    answer = sender.send("http://127.0.0.1:9/in", headers={}, body=b"{}")  # nothing listens

    assert answer.status_code is None
    assert answer.error is not None
    assert "ConnectError" in answer.error
