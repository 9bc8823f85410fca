"""FastAPI dependencies: use cases from the container, and the authenticated user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from domain.errors import AuthenticationError, PermissionDeniedError
from domain.user import User

# auto_error=False: a missing token must become our 401 problem document, not FastAPI's.
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def use_case(name: str) -> Any:
    """A dependency resolving the container's provider `name` for this request."""

    # async: building a use case blocks on nothing, and FastAPI runs a plain `def`
    # dependency on a worker thread, a hand-over that cost more than the call (profiled).
    async def resolve(request: Request) -> Any:
        return getattr(request.app.state.container, name)()

    resolve.__name__ = f"provide_{name}"
    return Depends(resolve)


def current_user(request: Request, token: Annotated[str | None, Depends(bearer)]) -> User:
    if not token:
        raise AuthenticationError("this endpoint needs a bearer token")
    user: User = request.app.state.container.identify_user().execute(token)
    return user


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise PermissionDeniedError("this operation is for administrators only")
    return user


def optional_user(request: Request, token: Annotated[str | None, Depends(bearer)]) -> User | None:
    """The caller if they sent a token (which must then be valid), else None."""
    return current_user(request, token) if token else None


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
