"""Logging in and out, and the API client every other command gets from the stored login."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from entrypoints.client import credentials
from entrypoints.client.api_client import DEFAULT_URL, ApiClient, normalise_url
from entrypoints.client.errors import ClientError
from entrypoints.client.output import print_warning, reported_errors

API_URL_ENV = "TASKHUB_API_URL"
PASSWORD_ENV = "TASKHUB_PASSWORD"  # noqa: S105 - the variable's name, not a password
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def login(
    email: Annotated[str, typer.Option(prompt=True, help="Your account's email.")],
    url: Annotated[
        str, typer.Option(envvar=API_URL_ENV, help="The API's address.", show_envvar=True)
    ] = DEFAULT_URL,
) -> None:
    """Log in and store the access token (readable by you alone) for the other commands.

    The password is asked for, hidden; scripts may set TASKHUB_PASSWORD instead.
    """
    # No --password option: a password on the command line is visible to every user in `ps`.
    password = os.environ.get(PASSWORD_ENV) or typer.prompt("Password", hide_input=True)
    with reported_errors(login_hint=False):
        base = normalise_url(url)
        _warn_if_plain_http(base)
        issued_at = datetime.now(UTC)
        with ApiClient(base) as client:
            token = client.login(email, password)
        stored = credentials.Credentials(
            url=base,
            access_token=_field(token, "access_token"),
            expires_at=_expiry(token, issued_at),
        )
        path = credentials.save(stored)
    until = stored.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
    typer.echo(f"logged in to {base} as {email} until {until}; token stored in {path}")


def logout() -> None:
    """Delete the stored access token (it stays valid on the server until it expires)."""
    if credentials.remove():
        typer.echo(f"logged out: {credentials.credentials_path()} deleted")
    else:
        typer.echo("not logged in")


@contextmanager
def logged_in_client() -> Iterator[ApiClient]:
    # Always the URL stored with the token: sending it to another server would leak it there.
    stored = credentials.load()
    with ApiClient(stored.url, stored.access_token) as client:
        yield client


def _warn_if_plain_http(url: str) -> None:
    import httpx

    # The password and then the token would cross the network readable by anyone on the way.
    parsed = httpx.URL(url)
    if parsed.scheme == "http" and parsed.host not in LOOPBACK_HOSTS:
        print_warning(f"{url} is plain HTTP; use https:// beyond this machine")


def _field(token: dict[str, Any], name: str) -> str:
    value = token.get(name)
    if not isinstance(value, str) or not value:
        raise ClientError(f"the API's login answer has no {name}")
    return value


def _expiry(token: dict[str, Any], issued_at: datetime) -> datetime:
    # Counted from before the request, so the stored expiry is never later than the real one.
    seconds = token.get("expires_in")
    if not isinstance(seconds, int | float):
        raise ClientError("the API's login answer has no expires_in")
    return issued_at + timedelta(seconds=seconds)
