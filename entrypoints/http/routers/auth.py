"""Sign-up and login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from application.use_cases.authenticate import Authenticate
from application.use_cases.end_sessions import EndSessions
from application.use_cases.register_user import RegisterUser
from domain.text import check_plain_text
from entrypoints.http.dependencies import CurrentUser, OptionalUser, use_case
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.users import RegisterRequest, TokenResponse, UserResponse

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    operation_id="register",
    responses=problem_responses(401, 403, 409, 422),
)
def register(
    body: RegisterRequest,
    actor: OptionalUser,
    register_user: Annotated[RegisterUser, use_case("register_user")],
) -> UserResponse:
    """Create an account. Open to anyone unless sign-up is turned off; then admins only."""
    user = register_user.execute(email=body.email, password=body.password, actor=actor)
    return UserResponse.of(user)


@router.post("/token", operation_id="login", responses=problem_responses(401, 422, 429))
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    authenticate: Annotated[Authenticate, use_case("authenticate")],
) -> TokenResponse:
    """OAuth2 password flow: `username` is the email. Repeated failures for an account or
    from an address must wait before the next try (429, Retry-After)."""
    # The peer address; behind a proxy, uvicorn puts the client's there from X-Forwarded-For
    # when the proxy is one of its --forwarded-allow-ips.
    client_ip = request.client.host if request.client else None
    check_plain_text(form.username, field="username")
    token = authenticate.execute(email=form.username, password=form.password, client_ip=client_ip)
    return TokenResponse(access_token=token.token, expires_in=token.expires_in)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="logout",
    responses=problem_responses(401),
)
def logout(user: CurrentUser, end: Annotated[EndSessions, use_case("end_sessions")]) -> Response:
    """End every session of the caller: each access token issued so far, on any device,
    stops working at once."""
    end.execute(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
