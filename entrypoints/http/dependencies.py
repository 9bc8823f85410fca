"""FastAPI dependencies: typed use cases from the API's container, and the authenticated user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application.ports import TokenSubject
from domain.errors import AuthenticationError, PermissionDeniedError
from domain.user import User
from entrypoints.container import provider_name

T = TypeVar("T")

# auto_error=False: a missing token must become our 401 problem document, not FastAPI's.
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class Provided(Generic[T]):
    """A dependency on a provider of the core container, checked by mypy:
    `Provided(SubmitTask).by(CoreContainer.submit_task)` fails type-checking unless that
    provider builds a `SubmitTask`. Each request gets it from the app's own container."""

    def __init__(self, kind: type[T]) -> None:
        self.kind = kind

    def by(self, provider: Callable[[], T]) -> Any:
        name = provider_name(provider)

        # async: building a use case blocks on nothing, and FastAPI runs a plain `def`
        # dependency on a worker thread, a hand-over that cost more than the call (profiled).
        async def resolve(request: Request) -> T:
            built: T = getattr(request.app.state.container.core, name)()
            return built

        resolve.__name__ = f"provide_{name}"
        # What it builds, for tests/unit/http/test_injected_use_cases.py to compare with the
        # type its alias declares.
        resolve.__annotations__["return"] = self.kind
        return Depends(resolve)


def current_user(request: Request, token: Annotated[str | None, Depends(bearer)]) -> User:
    if not token:
        raise AuthenticationError("this endpoint needs a bearer token")
    user: User = request.app.state.container.core.identify_user().execute(token)
    return user


async def token_subject(
    request: Request, token: Annotated[str | None, Depends(bearer)]
) -> TokenSubject:
    """Whom the bearer token names, its signature and lifetime checked on the event loop
    (tens of microseconds of CPU, no I/O): for a use case that reads the user in its own
    transaction, which spares the request a transaction, and a hand-over to a thread, of
    `current_user`'s."""
    if not token:
        raise AuthenticationError("this endpoint needs a bearer token")
    subject: TokenSubject = request.app.state.container.core.token_service().verify(token)
    return subject


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise PermissionDeniedError("this operation is for administrators only")
    return user


def optional_user(request: Request, token: Annotated[str | None, Depends(bearer)]) -> User | None:
    """The caller if they sent a token (which must then be valid), else None."""
    return current_user(request, token) if token else None


CurrentUser = Annotated[User, Depends(current_user)]
Caller = Annotated[TokenSubject, Depends(token_subject)]
AdminUser = Annotated[User, Depends(admin_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
