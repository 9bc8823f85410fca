"""Settings refuse to run production on a missing, known or weak secret, and say why;
development makes a random key of its own per data directory."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.secret_key import KEY_FILE_NAME, development_key
from config.settings import Settings

GOOD_KEY = "a-production-secret-of-our-own-Zq8wX3vT1pL6"
# The development default this file once published, and so did the whole repository.
PUBLISHED = "dev-only-secret-key-change-me-in-production-0123456789"


def test_development_without_a_key_makes_a_random_one_in_the_data_directory(
    tmp_path: Path,
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path / "data")

    key = settings.signing_key()

    path = tmp_path / "data" / KEY_FILE_NAME
    assert path.read_text().strip() == key
    assert len(key.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert key != PUBLISHED


def test_the_development_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Settings(environment="development", data_dir=tmp_path).signing_key()
    again = Settings(environment="development", data_dir=tmp_path).signing_key()
    elsewhere = Settings(environment="development", data_dir=tmp_path / "other").signing_key()

    assert first == again
    assert elsewhere != first


def test_processes_starting_together_agree_on_one_development_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: development_key(tmp_path), range(32)))

    assert len(keys) == 1
    assert os.listdir(tmp_path) == [KEY_FILE_NAME]


def test_a_development_key_file_others_may_read_is_made_private(tmp_path: Path) -> None:
    key = development_key(tmp_path)
    (tmp_path / KEY_FILE_NAME).chmod(0o644)

    assert development_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


def test_a_configured_key_is_used_as_given_and_no_file_is_made(tmp_path: Path) -> None:
    settings = Settings(environment="development", secret_key=GOOD_KEY, data_dir=tmp_path)

    assert settings.signing_key() == GOOD_KEY
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_production_requires_a_key_and_says_what_to_do() -> None:
    with pytest.raises(ValidationError, match="TASKHUB_SECRET_KEY is required in production"):
        Settings(environment="production")


def test_a_secret_shorter_than_32_bytes_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(environment="development", secret_key="too-short")


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("the once published default", PUBLISHED),
        ("it with a leading space", " " + PUBLISHED),
        ("it with a trailing newline", PUBLISHED + "\n"),
        ("short, padded with spaces", "short-key" + " " * 40),
        ("one character repeated", "x" * 48),
        ("a word repeated", "password" * 6),
        ("a sequence", "abcdefghijklmnopqrstuvwxyz0123456789"),
        ("digits counting up", "0123456789" * 4),
        ("two characters", "ab" * 24),
    ],
)
def test_production_refuses_weak_or_known_keys(case: str, key: str) -> None:
    with pytest.raises(ValidationError, match="TASKHUB_SECRET_KEY"):
        Settings(environment="production", secret_key=key)


@pytest.mark.parametrize(
    "key", [GOOD_KEY, "0f3a9c27e1b84d5a96c2e7f01b3d8a45", "Zq8" * 4 + "wX3vT1pL6yR2mN7kB4hJ"]
)
def test_production_starts_with_a_real_secret(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "production")
    monkeypatch.setenv("TASKHUB_SECRET_KEY", key)

    assert Settings().environment == "production"


def test_production_refuses_to_trust_x_forwarded_for_from_anyone() -> None:
    key = "a-production-secret-of-our-own-Zq8wX3vT1pL6"
    for trusted in ("*", "10.0.0.5, *"):
        with pytest.raises(ValueError, match="TASKHUB_FORWARDED_ALLOW_IPS"):
            Settings(environment="production", secret_key=key, forwarded_allow_ips=trusted)

    settings = Settings(environment="production", secret_key=key, forwarded_allow_ips="10.0.0.5")
    assert settings.forwarded_allow_ips == "10.0.0.5"


def test_default_page_size_cannot_exceed_the_cap() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_PAGE_SIZE"):
        Settings(default_page_size=500, max_page_size=100)


SECRET = "a-production-secret-of-our-own-Zq8wX3vT1pL6"


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
