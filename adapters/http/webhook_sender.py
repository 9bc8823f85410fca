"""Sending webhooks with httpx, behind an address guard against server-side request forgery."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from application.ports import WebhookResponse, WebhookSender
from domain.webhook import MAX_STORED_RESPONSE

if TYPE_CHECKING:
    import httpx

Resolver = Callable[[str, int], list[str]]


class ForbiddenAddressError(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def forbidden(address: str) -> bool:
    """Loopback, link-local (the cloud metadata services' 169.254.169.254 among them),
    private, shared (carrier-grade NAT), reserved, multicast and unspecified addresses:
    anything but a global unicast one. IPv4-mapped IPv6 addresses are judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class AddressGuard:
    """Allows a URL when every address its host resolves to is public, or its host is one
    of `allowed_hosts` (exactly, case-insensitive). Asked before every attempt: a name that
    resolved to a public address yesterday may resolve to a private one today."""

    def __init__(self, allowed_hosts: Collection[str] = (), resolver: Resolver = resolve) -> None:
        self._allowed = frozenset(host.lower() for host in allowed_hosts)
        self._resolve = resolver

    def check(self, url: str) -> None:
        """Raises ForbiddenAddressError."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in self._allowed:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self._resolve(host, port)
        except OSError as exc:
            raise ForbiddenAddressError(f"{host} does not resolve: {exc}") from exc
        refused = [address for address in addresses if forbidden(address)]
        if refused or not addresses:
            raise ForbiddenAddressError(
                f"{host} resolves to an address webhooks may not reach ({', '.join(refused)})"
            )


class HttpxWebhookSender(WebhookSender):
    """POSTs with httpx: no redirects followed (a 3xx is a failed attempt), a timeout on
    connecting and on the whole exchange, and at most a KB of the answer read."""

    def __init__(self, guard: AddressGuard, *, timeout_seconds: float) -> None:
        # Imported where a sender is built (a worker), not where this module is: httpx
        # brings its command line's rich and pygments, a tenth of the API's memory.
        import httpx

        self._httpx = httpx
        self._guard = guard
        self._timeout: httpx.Timeout = httpx.Timeout(timeout_seconds)

    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> WebhookResponse:
        try:
            self._guard.check(url)
        except ForbiddenAddressError as exc:
            return WebhookResponse(status_code=None, error=f"refused: {exc}")
        try:
            with (
                self._httpx.Client(
                    timeout=self._timeout, follow_redirects=False, trust_env=False
                ) as client,
                client.stream(
                    "POST", url, headers={"user-agent": "taskhub-webhooks", **headers}, content=body
                ) as response,
            ):
                answer = b""
                for chunk in response.iter_bytes():
                    answer += chunk
                    if len(answer) >= MAX_STORED_RESPONSE:
                        break
                return WebhookResponse(
                    status_code=response.status_code, body=answer[:MAX_STORED_RESPONSE]
                )
        except self._httpx.HTTPError as exc:
            return WebhookResponse(
                status_code=None, error=f"{type(exc).__name__}: {exc}"[:MAX_STORED_RESPONSE]
            )
