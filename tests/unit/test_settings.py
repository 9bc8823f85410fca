"""Settings refuse to run production on a known or weak secret, and say why."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import DEFAULT_SECRET_KEY, Settings


def test_development_may_use_the_published_default_secret() -> None:
    assert Settings(environment="development").secret_key.get_secret_value() == DEFAULT_SECRET_KEY


def test_production_refuses_the_default_secret_and_says_what_to_do() -> None:
    with pytest.raises(ValidationError, match="TASKHUB_SECRET_KEY is the published development"):
        Settings(environment="production")


def test_a_secret_shorter_than_32_bytes_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(environment="development", secret_key="too-short")


def test_production_starts_with_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "production")
    monkeypatch.setenv("TASKHUB_SECRET_KEY", "x" * 48)

    assert Settings().environment == "production"


def test_default_page_size_cannot_exceed_the_cap() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_PAGE_SIZE"):
        Settings(default_page_size=500, max_page_size=100)


SECRET = "x" * 48


def test_production_closes_self_registration_unless_it_is_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "production")
    monkeypatch.setenv("TASKHUB_SECRET_KEY", SECRET)
    assert Settings().signup_open is False

    monkeypatch.setenv("TASKHUB_ALLOW_SIGNUP", "true")
    assert Settings().signup_open is True


@pytest.mark.parametrize("environment", ["development", "test"])
def test_elsewhere_self_registration_is_open_unless_it_is_closed(environment: str) -> None:
    assert Settings(environment=environment).signup_open is True
    assert Settings(environment=environment, allow_signup=False).signup_open is False


def test_no_origin_may_call_the_api_from_a_browser_by_default() -> None:
    assert Settings().cors_origins == []


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TASKHUB_CORS_ALLOW_ORIGINS", "https://app.example.com, http://localhost:5173"
    )

    assert Settings().cors_origins == ["https://app.example.com", "http://localhost:5173"]


@pytest.mark.parametrize(
    "origin",
    ["*", "app.example.com", "https://app.example.com/", "https://app.example.com/ui", "ftp://x"],
)
def test_a_cors_origin_that_no_browser_would_send_is_refused_naming_the_setting(
    origin: str,
) -> None:
    with pytest.raises(ValidationError, match="TASKHUB_CORS_ALLOW_ORIGINS"):
        Settings(cors_allow_origins=origin)
