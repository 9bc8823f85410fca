"""The stored login: one JSON file {url, access_token, expires_at} only its owner can read."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer

from entrypoints.client.errors import LOGIN_HINT, ClientError, NotLoggedInError

CONFIG_DIR_ENV = "TASKHUB_CLIENT_CONFIG_DIR"
FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    url: str
    access_token: str = field(repr=False)
    expires_at: datetime

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_ENV) or typer.get_app_dir("taskhub"))


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def save(credentials: Credentials) -> Path:
    """Write atomically; the file is created 0600, so the token is never readable by others."""
    path = credentials_path()
    try:
        _write_private(path, credentials)
    except OSError as exc:
        raise ClientError(f"could not store the login at {path}: {exc.strerror or exc}") from None
    return path


def _write_private(path: Path, credentials: Credentials) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {
        "url": credentials.url,
        "access_token": credentials.access_token,
        "expires_at": credentials.expires_at.isoformat(),
    }
    temporary = path.with_name(f".{FILE_NAME}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: a planted file or symlink at the temporary name is refused, not written through.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        # A fresh inode replaces any older, possibly wider-permission, file.
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def load() -> Credentials:
    """The stored login if it is still valid; NotLoggedInError saying why not otherwise."""
    path = credentials_path()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        expires_at = datetime.fromisoformat(document["expires_at"])
        credentials = Credentials(
            url=str(document["url"]),
            access_token=str(document["access_token"]),
            # A hand-edited time without a zone is read as UTC rather than refused.
            expires_at=expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC),
        )
    except FileNotFoundError:
        raise NotLoggedInError(f"not logged in: {LOGIN_HINT}") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise NotLoggedInError(f"the stored login at {path} is unreadable: {LOGIN_HINT}") from None
    if credentials.expired:
        when = credentials.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
        raise NotLoggedInError(f"your login expired at {when}: {LOGIN_HINT}")
    return credentials


def remove() -> bool:
    """Delete the stored login; False when there was none."""
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True
