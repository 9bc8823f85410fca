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


def test_production_refuses_to_trust_x_forwarded_for_from_anyone() -> None:
    key = "a-production-secret-of-our-own-Zq8wX3vT1pL6"
    for trusted in ("*", "10.0.0.5, *"):
        with pytest.raises(ValueError, match="TASKHUB_FORWARDED_ALLOW_IPS"):
            Settings(environment="production", secret_key=key, forwarded_allow_ips=trusted)

    settings = Settings(environment="production", secret_key=key, forwarded_allow_ips="10.0.0.5")
    assert settings.forwarded_allow_ips == "10.0.0.5"
