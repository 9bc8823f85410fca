"""The User entity, the Email value object and the new-password rules."""

from __future__ import annotations

import pytest

from domain.errors import ValidationError
from domain.user import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_BYTES,
    MIN_PASSWORD_LENGTH,
    Email,
    User,
    check_new_password,
    common_passwords,
)
from tests.factories import T0, make_user

# --- Email -----------------------------------------------------------------------------------


def test_email_is_stripped_and_lower_cased() -> None:
    email = Email("  Alice.Smith@Example.COM \n")

    assert email.value == "alice.smith@example.com"
    assert str(email) == "alice.smith@example.com"


def test_emails_differing_only_in_case_are_equal() -> None:
    assert Email("Bob@Example.com") == Email("bob@example.com")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "alice@example.",
    ],
)
def test_malformed_email_is_rejected(address: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Email(address)

    assert excinfo.value.field == "email"


@pytest.mark.parametrize(
    ("lookalike", "reason"),
    [
        ("alice\u200b@example.com", "invisible"),  # zero-width space
        ("\u202ealice@example.com", "invisible"),  # right-to-left override
        ("ali\u2066ce@example.com", "invisible"),  # bidi isolate
        ("alice\u3164@example.com", "invisible"),  # Hangul filler
        ("\u0430lice@example.com", "ASCII"),  # Cyrillic a
        ("alic\u0435@example.com", "ASCII"),  # Cyrillic e
        ("alice@example.com.", "dot"),
    ],
)
def test_an_email_that_only_looks_like_another_is_refused(lookalike: str, reason: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Email(lookalike)

    assert excinfo.value.field == "email"
    assert reason in excinfo.value.detail


@pytest.mark.parametrize(
    "spelling", ["\uff41lice@example.com", "ALICE@EXAMPLE.COM", "alice@\uff45xample.com"]
)
def test_fullwidth_and_case_variants_are_the_same_email(spelling: str) -> None:
    assert Email(spelling) == Email("alice@example.com")


def test_a_lookalike_domain_is_kept_in_its_ascii_form_so_it_reads_as_different() -> None:
    email = Email("alice@ex\u0430mple.com")  # Cyrillic a in the domain

    assert email.value.startswith("alice@xn--")
    assert email != Email("alice@example.com")


def test_a_stored_email_is_read_back_as_it_was_stored() -> None:
    assert Email.stored("old\u0430@example.com").value == "old\u0430@example.com"


def test_email_longer_than_the_limit_is_rejected() -> None:
    domain = "@example.com"
    address = "a" * (MAX_EMAIL_LENGTH - len(domain) + 1) + domain

    with pytest.raises(ValidationError) as excinfo:
        Email(address)

    assert excinfo.value.field == "email"


def test_email_of_exactly_the_limit_is_accepted() -> None:
    domain = "@example.com"
    address = "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain

    email = Email(address)

    assert len(email.value) == MAX_EMAIL_LENGTH


def test_email_length_is_measured_after_stripping_blanks() -> None:
    domain = "@example.com"
    address = "   " + "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain + "   "

    email = Email(address)

    assert len(email.value) == MAX_EMAIL_LENGTH


# --- check_new_password ----------------------------------------------------------------------


def _accepted(password: str) -> bool:
    try:
        check_new_password(password)
    except ValidationError:
        return False
    return True


def test_password_shorter_than_the_minimum_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_new_password("x" * (MIN_PASSWORD_LENGTH - 1))

    assert excinfo.value.field == "password"


@pytest.mark.parametrize("length", [MIN_PASSWORD_LENGTH, MAX_PASSWORD_BYTES])
def test_password_within_the_limits_is_accepted(length: int) -> None:
    password = "x" * length

    accepted = _accepted(password)

    assert accepted is True


def test_password_over_seventy_two_bytes_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_new_password("x" * (MAX_PASSWORD_BYTES + 1))

    assert excinfo.value.field == "password"


def test_password_limit_counts_utf8_bytes_not_characters() -> None:
    sixty_bytes = "é" * 30
    eighty_bytes = "é" * 40

    accepted = _accepted(sixty_bytes)
    with pytest.raises(ValidationError) as excinfo:
        check_new_password(eighty_bytes)

    assert len(eighty_bytes) < MAX_PASSWORD_BYTES < len(eighty_bytes.encode("utf-8"))
    assert accepted is True
    assert excinfo.value.field == "password"


def test_password_minimum_counts_characters_not_bytes() -> None:
    four_chars_eight_bytes = "é" * 4

    with pytest.raises(ValidationError) as excinfo:
        check_new_password(four_chars_eight_bytes)

    assert excinfo.value.field == "password"


# --- User ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["\0" * 8, "P\0" + "password", "tab\there-now", "escape\x1b[2Jnow", "del\x7fete-me"]
)
def test_a_new_password_with_a_control_character_is_refused(password: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_new_password(password)

    assert error.value.field == "password"
    assert "control character" in error.value.detail


@pytest.mark.parametrize(
    "password", ["12345678", "password", "Password1", "QWERTYUIOP", "iloveyou"]
)
def test_one_of_the_most_common_passwords_is_refused_whatever_its_case(password: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_new_password(password)

    assert error.value.field == "password"
    assert "common" in error.value.detail


def test_the_common_password_list_is_shipped_and_holds_only_passwords_long_enough() -> None:
    listed = common_passwords()

    assert len(listed) > 100
    assert all(len(password) >= MIN_PASSWORD_LENGTH for password in listed)


def test_registered_user_is_active_and_not_admin_by_default() -> None:
    user = User.register(email=Email("new@example.com"), hashed_password="h4sh", at=T0)

    assert user.is_active is True
    assert user.is_admin is False
    assert user.email == Email("new@example.com")
    assert user.created_at == T0


def test_hashed_password_is_kept_out_of_the_repr() -> None:
    user = make_user(email="alice@example.com")
    user.change_password("s3cr3t-hash-value")

    text = repr(user)

    assert "s3cr3t-hash-value" not in text
    assert "hashed_password" not in text
    assert "alice@example.com" in text


def test_change_password_replaces_the_hash() -> None:
    user = make_user()

    user.change_password("new-hash")

    assert user.hashed_password == "new-hash"


def test_deactivate_and_activate_toggle_the_account() -> None:
    user = make_user()

    user.deactivate()
    after_deactivate = user.is_active
    user.activate()

    assert after_deactivate is False
    assert user.is_active is True


def test_grant_and_revoke_admin_toggle_the_role() -> None:
    user = make_user()

    user.grant_admin()
    after_grant = user.is_admin
    user.revoke_admin()

    assert after_grant is True
    assert user.is_admin is False


def test_users_are_equal_by_id() -> None:
    user = make_user(email="a@example.com")
    same = User(id=user.id, email=Email("b@example.com"), hashed_password="x", created_at=T0)

    assert user == same
    assert hash(user) == hash(same)
    assert user != make_user(email="a@example.com")


def test_a_password_change_deactivation_or_logout_each_raise_the_token_version() -> None:
    user = make_user()
    versions = [user.token_version]

    user.change_password("new-hash")
    versions.append(user.token_version)
    user.deactivate()
    versions.append(user.token_version)
    user.activate()  # reactivation does not bring old tokens back
    versions.append(user.token_version)
    user.end_sessions()
    versions.append(user.token_version)

    assert versions == [0, 1, 2, 2, 3]
