"""Flower's basic-auth credentials: a user and a password of at least 16 characters each."""

from __future__ import annotations

import pytest

from entrypoints.flower_access import flower_credentials_problem


@pytest.mark.parametrize(
    "credentials",
    [":", "admin:", ":a-long-enough-password", "admin:short", "admin", "ok:0123456789abcdef,x:y"],
)
def test_credentials_without_a_user_or_a_long_password_are_refused(credentials: str) -> None:
    assert flower_credentials_problem(credentials) is not None


@pytest.mark.parametrize(
    "credentials", ["ops:0123456789abcdef", "a:0123456789abcdef,b:p" + "q" * 15]
)
def test_a_user_with_a_password_of_sixteen_characters_or_more_is_accepted(
    credentials: str,
) -> None:
    assert flower_credentials_problem(credentials) is None
