"""Where the encryption keys come from: TASKHUB_ENCRYPTION_KEYS, newest first; elsewhere than
production a key made once in the data directory; production without one refuses to start
when a task type has secret values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from adapters.security.fernet_cipher import FernetSecretCipher, new_key
from adapters.task_types.builtin import builtin_registry
from adapters.task_types.registry import TaskTypeRegistry
from application.secret_values import NO_ENCRYPTION_KEY
from config.secret_key import ENCRYPTION_KEY_FILE_NAME
from config.settings import Settings
from entrypoints.cli import app
from entrypoints.container import EncryptionKeyMissingError, cipher_for

PRODUCTION = {
    "environment": "production",
    "secret_key": "a-production-secret-of-our-own-Zq8wX3vT1pL6",
    "forwarded_allow_ips": "10.0.0.1",
}


def test_development_makes_one_key_in_the_data_directory_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    first = Settings(environment="development", data_dir=tmp_path).encryption_key_list()
    again = Settings(environment="development", data_dir=tmp_path).encryption_key_list()

    path = tmp_path / ENCRYPTION_KEY_FILE_NAME
    assert first == again == [path.read_text()]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = FernetSecretCipher(first).encrypt("x")  # a usable Fernet key
    assert FernetSecretCipher(again).decrypt(token) == "x"


def test_the_configured_keys_come_newest_first() -> None:
    new, old = new_key(), new_key()

    settings = Settings(environment="development", encryption_keys=f"{new}, {old}")

    assert settings.encryption_key_list() == [new, old]


@pytest.mark.parametrize(
    "keys",
    ["not-a-key", ",", f"{new_key()},short"],
    ids=["not a key", "empty entries", "a good key then a short one"],
)
def test_a_malformed_key_is_refused_naming_the_setting(keys: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="development", encryption_keys=keys)

    assert "TASKHUB_ENCRYPTION_KEYS" in str(refused.value)


def test_production_without_a_key_is_refused_when_a_task_type_has_secret_fields(
    tmp_path: Path,
) -> None:
    settings = Settings(**PRODUCTION, data_dir=tmp_path)  # type: ignore[arg-type]

    with pytest.raises(EncryptionKeyMissingError) as refused:
        cipher_for(settings, builtin_registry())

    assert "file_signature" in str(refused.value)
    assert not (tmp_path / ENCRYPTION_KEY_FILE_NAME).exists()  # nothing made in production


def test_production_without_secret_task_types_runs_without_a_key() -> None:
    settings = Settings(**PRODUCTION)  # type: ignore[arg-type]

    assert cipher_for(settings, TaskTypeRegistry()) is NO_ENCRYPTION_KEY


def test_production_with_a_key_seals_with_it() -> None:
    key = new_key()
    settings = Settings(**PRODUCTION, encryption_keys=key)  # type: ignore[arg-type]

    cipher = cipher_for(settings, builtin_registry())

    assert FernetSecretCipher([key]).decrypt(cipher.encrypt("x")) == "x"


def test_the_api_refuses_to_start_in_production_without_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(f"TASKHUB_{name.upper()}", value)
    monkeypatch.delenv("TASKHUB_ENCRYPTION_KEYS", raising=False)

    result = CliRunner().invoke(app, ["api"])

    assert result.exit_code == 2
    assert "TASKHUB_ENCRYPTION_KEYS is required in production" in result.output


def test_keys_generate_prints_a_usable_key() -> None:
    result = CliRunner().invoke(app, ["keys", "generate"])

    key = result.output.strip()
    assert result.exit_code == 0
    assert FernetSecretCipher([key]).decrypt(FernetSecretCipher([key]).encrypt("x")) == "x"
