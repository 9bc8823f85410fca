"""Who may act on what: owners on their own, admins on all, the inactive on nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.errors import NotFoundError, PermissionDeniedError
from domain.policy import (
    Action,
    ensure_active,
    ensure_admin,
    ensure_may_act_on,
    may_act_on,
    visible_owner,
)
from tests.factories import make_user

ACTIONS = list(Action)


def _let_through(check: Callable[[], None]) -> bool:
    try:
        check()
    except (NotFoundError, PermissionDeniedError):
        return False
    return True


@pytest.mark.parametrize("action", ACTIONS)
def test_owner_may_act_on_their_own_resource(action: Action) -> None:
    owner = make_user()

    allowed = may_act_on(owner, action, owner_id=owner.id)

    assert allowed is True


@pytest.mark.parametrize("action", ACTIONS)
def test_user_may_not_act_on_someone_elses_resource(action: Action) -> None:
    owner = make_user()
    stranger = make_user()

    allowed = may_act_on(stranger, action, owner_id=owner.id)

    assert allowed is False


@pytest.mark.parametrize("action", ACTIONS)
def test_admin_may_act_on_every_resource(action: Action) -> None:
    owner = make_user()
    admin = make_user(is_admin=True)

    allowed = may_act_on(admin, action, owner_id=owner.id)

    assert allowed is True


@pytest.mark.parametrize("action", ACTIONS)
def test_inactive_user_may_not_act_even_on_their_own(action: Action) -> None:
    user = make_user(is_active=False)

    allowed = may_act_on(user, action, owner_id=user.id)

    assert allowed is False


@pytest.mark.parametrize("action", ACTIONS)
def test_inactive_admin_may_act_on_nothing(action: Action) -> None:
    admin = make_user(is_admin=True, is_active=False)
    owner = make_user()

    on_others = may_act_on(admin, action, owner_id=owner.id)
    on_own = may_act_on(admin, action, owner_id=admin.id)

    assert (on_others, on_own) == (False, False)


def test_ensure_may_act_on_lets_the_owner_through() -> None:
    owner = make_user()

    let_through = _let_through(
        lambda: ensure_may_act_on(
            owner, Action.CHANGE, owner_id=owner.id, resource="task", resource_id="t-1"
        )
    )

    assert let_through is True


def test_stranger_is_told_not_found_rather_than_forbidden() -> None:
    owner = make_user()
    stranger = make_user()

    with pytest.raises(NotFoundError) as excinfo:
        ensure_may_act_on(
            stranger, Action.READ, owner_id=owner.id, resource="task", resource_id="t-1"
        )

    assert not isinstance(excinfo.value, PermissionDeniedError)
    assert excinfo.value.context == {"task_id": "t-1"}
    assert "t-1" in excinfo.value.detail


def test_inactive_owner_is_told_not_found() -> None:
    owner = make_user(is_active=False)

    with pytest.raises(NotFoundError) as excinfo:
        ensure_may_act_on(owner, Action.DELETE, owner_id=owner.id, resource="model", resource_id=42)

    assert excinfo.value.context == {"model_id": "42"}


def test_ensure_admin_accepts_an_active_admin() -> None:
    admin = make_user(is_admin=True)

    let_through = _let_through(lambda: ensure_admin(admin))

    assert let_through is True


def test_ensure_admin_refuses_a_regular_user() -> None:
    user = make_user()

    with pytest.raises(PermissionDeniedError) as excinfo:
        ensure_admin(user)

    assert "administrators" in excinfo.value.detail


def test_ensure_admin_refuses_an_inactive_admin() -> None:
    admin = make_user(is_admin=True, is_active=False)

    with pytest.raises(PermissionDeniedError) as excinfo:
        ensure_admin(admin)

    assert "deactivated" in excinfo.value.detail


def test_ensure_active_refuses_a_deactivated_account() -> None:
    user = make_user()
    user.deactivate()

    with pytest.raises(PermissionDeniedError):
        ensure_active(user)

    assert user.is_active is False


def test_regular_user_only_sees_their_own_resources() -> None:
    user = make_user()

    owner = visible_owner(user)

    assert owner == user.id


def test_admin_sees_every_owner() -> None:
    admin = make_user(is_admin=True)

    owner = visible_owner(admin)

    assert owner is None


def test_an_admin_may_narrow_a_listing_to_one_owner() -> None:
    admin, someone = make_user(is_admin=True), make_user()

    assert visible_owner(admin, asked_for=someone.id) == someone.id


def test_a_regular_user_may_ask_only_for_their_own_resources() -> None:
    user, someone = make_user(), make_user()

    assert visible_owner(user, asked_for=user.id) == user.id
    with pytest.raises(PermissionDeniedError):
        visible_owner(user, asked_for=someone.id)


@pytest.mark.parametrize("is_admin", [False, True])
def test_inactive_user_sees_nothing(is_admin: bool) -> None:
    user = make_user(is_admin=is_admin, is_active=False)

    with pytest.raises(PermissionDeniedError):
        visible_owner(user)

    assert user.is_active is False
