"""The current user, and user administration."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from domain.user import UserId
from entrypoints.http.dependencies import AdminUser, CurrentUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.users import (
    ChangePasswordRequest,
    CreateUserRequest,
    QuotaResponse,
    UpdateUserRequest,
    UserPage,
    UserResponse,
)
from entrypoints.http.use_cases import (
    ChangePasswordUseCase,
    GetQuotaUseCase,
    ListUsersUseCase,
    RegisterUserUseCase,
    UpdateUserUseCase,
)

router = APIRouter(prefix="/users", tags=["users"])
ADMIN_ERRORS = problem_responses(401, 403, 422)


@router.get("/me", operation_id="get_current_user", responses=problem_responses(401))
def me(user: CurrentUser) -> UserResponse:
    return UserResponse.of(user)


@router.get("/me/quota", operation_id="get_current_user_quota", responses=problem_responses(401))
def my_quota(user: CurrentUser, get: GetQuotaUseCase) -> QuotaResponse:
    """How many of your tasks are pending or running, and how many may be at once."""
    return QuotaResponse.of(get.execute(user))


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="change_own_password",
    responses=problem_responses(401, 422),
)
def change_password(
    body: ChangePasswordRequest,
    user: CurrentUser,
    change: ChangePasswordUseCase,
) -> Response:
    """Change your password, giving the current one. Every session ends, this one too:
    log in again with the new password."""
    change.execute(user, current_password=body.current_password, new_password=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", operation_id="list_users", responses=ADMIN_ERRORS)
def list_users(
    admin: AdminUser,
    list_users: ListUsersUseCase,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> UserPage:
    page = list_users.execute(admin, limit=limit, cursor=cursor)
    return UserPage(items=[UserResponse.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_user",
    responses=problem_responses(401, 403, 409, 422),
)
def create_user(
    body: CreateUserRequest,
    admin: AdminUser,
    register_user: RegisterUserUseCase,
) -> UserResponse:
    user = register_user.execute(
        email=body.email, password=body.password, actor=admin, is_admin=body.is_admin
    )
    return UserResponse.of(user)


@router.patch(
    "/{user_id}", operation_id="update_user", responses=problem_responses(401, 403, 404, 409, 422)
)
def update_user(
    user_id: UUID,
    body: UpdateUserRequest,
    admin: AdminUser,
    update_user: UpdateUserUseCase,
) -> UserResponse:
    user = update_user.execute(
        admin,
        UserId(user_id),
        is_active=body.is_active,
        is_admin=body.is_admin,
        share_weight=body.share_weight,
    )
    return UserResponse.of(user)
