"""Sign-up and login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from domain.text import check_plain_text
from entrypoints.http.dependencies import CurrentUser, OptionalUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.users import (
    RegisterRequest,
    SignUpAccepted,
    TokenResponse,
    UserResponse,
)
from entrypoints.http.use_cases import (
    AuthenticateUseCase,
    EndSessionsUseCase,
    RegisterUserUseCase,
    SignUpUseCase,
)

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="register",
    responses={
        status.HTTP_201_CREATED: {"model": UserResponse, "description": "Created by an admin"},
        **problem_responses(401, 403, 409, 422, 429),
    },
)
def register(
    request: Request,
    response: Response,
    body: RegisterRequest,
    actor: OptionalUser,
    register_user: RegisterUserUseCase,
    sign_up: SignUpUseCase,
) -> SignUpAccepted | UserResponse:
    """Sign up, or (with an admin's token) create an account.

    Signing up answers 202 with the same body whether or not the email already had an
    account, so it never confirms one; sign-ups from one address past a few must wait (429,
    Retry-After). Open to anyone unless sign-up is turned off. An admin gets 201 and the new
    user, or 409 for a taken email (admins may list users anyway)."""
    if actor is not None:
        user = register_user.execute(email=body.email, password=body.password, actor=actor)
        response.status_code = status.HTTP_201_CREATED
        return UserResponse.of(user)
    client_ip = request.client.host if request.client else None
    email = sign_up.execute(email=body.email, password=body.password, client_ip=client_ip)
    return SignUpAccepted(email=str(email))


@router.post("/token", operation_id="login", responses=problem_responses(401, 422, 429))
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    authenticate: AuthenticateUseCase,
) -> TokenResponse:
    """OAuth2 password flow: `username` is the email. Repeated failures at an account from
    one address, or from one address at any accounts, must wait before the next try there
    (429, Retry-After); other addresses are not held up."""
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
def logout(user: CurrentUser, end: EndSessionsUseCase) -> Response:
    """End every session of the caller: each access token issued so far, on any device,
    stops working at once."""
    end.execute(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
