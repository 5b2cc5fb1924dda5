"""Partner credentials at rest: encrypted with Fernet (AES-128-CBC with HMAC-SHA256).

The key is ``BASTION_SECRET_KEY`` when set (a Fernet key: 32 random bytes, base64url), else a key
file ``<data_dir>/identity/secrets.key`` created with mode 0600 on first use. Several API
replicas must share one key, so production deployments set the setting from their secret store.

Credentials are a flat mapping of names to strings (an API token, an app id and secret). They
are decrypted only at the moment a client needs them, never logged, never returned by the API
(which reports only which fields are set) and never put in a repr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bastion.errors import ConfigurationError, CredentialsUnreadable, InvalidInput

KEY_FILE = "secrets.key"
_MAX_FIELDS = 16
_MAX_VALUE = 8192


def _key_path(data_dir: Path) -> Path:
    return data_dir / "identity" / KEY_FILE


def _load_or_create_key(data_dir: Path) -> bytes:
    path = _key_path(data_dir)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    try:
        # O_EXCL: two processes creating the key at once keep the first one written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


def check_credentials(credentials: Mapping[str, object]) -> dict[str, str]:
    """Credentials as a small flat mapping of strings, or :class:`InvalidInput`."""
    if not isinstance(credentials, Mapping):
        raise InvalidInput("credentials must be an object of names to strings")
    if len(credentials) > _MAX_FIELDS:
        raise InvalidInput(f"at most {_MAX_FIELDS} credential fields")
    checked: dict[str, str] = {}
    for name, value in credentials.items():
        if not isinstance(name, str) or not name or len(name) > 64:
            raise InvalidInput("credential names are strings of 1 to 64 characters")
        if not isinstance(value, str) or len(value) > _MAX_VALUE:
            raise InvalidInput(f"credential {name!r} must be a string of at most {_MAX_VALUE}")
        checked[name] = value
    return checked


class SecretBox:
    """Seals and opens partner credentials with this instance's secret key."""

    __slots__ = ("_fernet",)

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "BASTION_SECRET_KEY must be a Fernet key (32 random bytes, base64url)"
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def open_for(cls, data_dir: Path, configured_key: str | None = None) -> SecretBox:
        """The box for this instance: the configured key, else the key file in ``data_dir``."""
        if configured_key:
            return cls(configured_key.encode())
        return cls(_load_or_create_key(data_dir))

    def seal(self, credentials: Mapping[str, object]) -> str:
        checked = check_credentials(credentials)
        return self._fernet.encrypt(json.dumps(checked, sort_keys=True).encode()).decode()

    def unseal(self, token: str | None) -> dict[str, str]:
        if not token:
            return {}
        try:
            plain = self._fernet.decrypt(token.encode())
        except (InvalidToken, ValueError):
            raise CredentialsUnreadable(
                "stored partner credentials do not decrypt with this instance's secret key; "
                "set them again"
            ) from None
        found = json.loads(plain)
        return {str(k): str(v) for k, v in found.items()}

    @staticmethod
    def field_names(credentials: Mapping[str, str]) -> list[str]:
        """What the API may show of credentials: which fields are set."""
        return sorted(credentials)
