"""The token-signing key: what production accepts, and the random key development makes
once per data directory and keeps there."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import math
import os
import secrets
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path

MIN_SECRET_KEY_BYTES = 32
# A key's characters must carry at least this many bits each (Shannon, from their
# frequencies): a random hex key carries about 3.6 in 32 characters (under 2.5 about never),
# base64 about 5; one character repeated, or a couple, far less.
MIN_BITS_PER_CHARACTER = 2.5
KEY_FILE_NAME = "secret_key"
# SHA-256 of keys once published in this repository (the old development default), refused
# in production even though the code no longer holds them: deployments may have copied one.
PUBLISHED_KEY_DIGESTS = frozenset(
    {"575aa4aa05b9e0dc7b94d0c5f38fe49d41b0af2e75ed459e15fc7a9d39c372cb"}
)


def production_key_problem(secret: str) -> str | None:
    """Why `secret` must not sign production tokens, or None. Whitespace is no part of the
    judgement: a known key with a space added is still the known key."""
    core = "".join(secret.split())
    if core != secret:
        return "must not contain whitespace (a key copied with a space or a newline?)"
    if len(core.encode()) < MIN_SECRET_KEY_BYTES:
        return f"must be at least {MIN_SECRET_KEY_BYTES} bytes long"
    if hashlib.sha256(core.encode()).hexdigest() in PUBLISHED_KEY_DIGESTS:
        return "is a published key (the old development default)"
    if (
        _bits_per_character(core) < MIN_BITS_PER_CHARACTER
        or _mostly_runs(core)
        or _repeats_a_block(core)
    ):
        return "has too little entropy (repeated or sequential characters, or a repeated word)"
    return None


def _bits_per_character(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _mostly_runs(text: str) -> bool:
    """Three in four or more of the neighbouring characters repeat or count up or down by
    one ("aaaa", "abcdef", "0123456789"): in a random hex key about one pair in five does."""
    steps = [abs(ord(b) - ord(a)) for a, b in itertools.pairwise(text)]
    return sum(step <= 1 for step in steps) * 4 >= len(steps) * 3


def _repeats_a_block(text: str) -> bool:
    """ "passwordpasswordpa...": the text is some shorter block of itself, repeated."""
    return any(
        text == (text[:size] * (len(text) // size + 1))[: len(text)]
        for size in range(1, len(text) // 2 + 1)
    )


def development_key(
    data_dir: Path,
    file_name: str = KEY_FILE_NAME,
    make: Callable[[], str] = lambda: secrets.token_urlsafe(48),
) -> str:
    """The key kept in `data_dir/file_name`, made (by `make`, 0600) by the first process to
    ask for it.

    Several processes starting at once agree on one key: each writes its candidate to a file
    of its own and links it into place, which only the first link does; the others read it.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / file_name
    if not path.exists():
        candidate = data_dir / f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(make())
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)
        finally:
            candidate.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # a key others may read signs tokens they could forge
    key = path.read_text().strip()
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:  # both the signing and the encryption key
        raise ValueError(f"{path} holds no usable key: delete it to have a new one made")
    return key


ENCRYPTION_KEY_FILE_NAME = "encryption_key"


def new_encryption_key() -> str:
    """A random Fernet key: 32 bytes, url-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def encryption_key_problem(key: str) -> str | None:
    """Why `key` is no encryption key (32 bytes, url-safe base64), or None."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        return "must be 32 random bytes, url-safe base64 (make one with `taskhub keys generate`)"
    return None
