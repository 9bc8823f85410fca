"""The console's session cookie (the access token, HttpOnly, SameSite=Strict) and its CSRF
token (double submit: a random cookie every changing form must echo)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from domain.errors import AuthenticationError, PermissionDeniedError
from domain.user import User

SESSION_COOKIE = "taskhub_session"
CSRF_COOKIE = "taskhub_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequiredError(Exception):
    """The page needs a signed-in user: the console answers with the sign-in page."""


class CsrfRefusedError(PermissionDeniedError):
    """A changing request whose CSRF token does not match its cookie: refused, 403."""

    code = "csrf_refused"
    title = "Form expired"


def _secure(request: Request) -> bool:
    # Secure when served over HTTPS; over plain HTTP (development) a Secure cookie is dropped.
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """The request's CSRF token: its cookie's, or a new one `remember_csrf` will set."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return str(token)


def remember_csrf(request: Request, response: Response) -> None:
    token = csrf_token(request)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/ui",
        )


def renew_csrf(request: Request) -> None:
    """A fresh token at sign-in, so a token planted before it is worth nothing after."""
    request.state.csrf_token = secrets.token_urlsafe(32)


async def checked_form(request: Request) -> FormData:
    """The form of a changing request, once its CSRF token matched the cookie's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = request.cookies.get(CSRF_COOKIE) or ""
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise CsrfRefusedError(
            "the form is out of date or came from another site: reload and retry"
        )
    return form


def start_session(request: Request, response: Response, token: str, expires_in: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=expires_in,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/ui",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/ui", httponly=True, samesite="strict")


def signed_in_user(request: Request) -> User:
    """The user the session cookie's token names; the sign-in page when there is none or it
    no longer holds (expired, revoked, account deactivated)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequiredError
    try:
        user: User = request.app.state.container.core.identify_user().execute(token)
    except AuthenticationError:
        raise SignInRequiredError from None
    request.state.user = user
    return user


SignedInUser = Annotated[User, Depends(signed_in_user)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
