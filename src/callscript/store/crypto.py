"""Encryption at rest with Fernet keys from CALLSCRIPT_DATA_KEY.

Several comma-separated keys allow rotation: the first encrypts, all decrypt,
and ``callscript db rotate-key`` re-encrypts everything with the first. Without
keys (``serve --dev`` only) values are stored in the clear, marked as such, so a
later rotation can encrypt them.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_VARIABLE = "CALLSCRIPT_DATA_KEY"
_PLAIN = "plain:"
PLAIN_PREFIX = _PLAIN  # a value stored in the clear starts with it; any other is encrypted


class DataKeyError(Exception):
    """A data key is missing, malformed, or does not decrypt the stored data."""


class Cipher:
    """Encrypts and decrypts stored text; ``Cipher.from_env()`` reads the keys."""

    def __init__(self, keys: list[str]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys]) if keys else None
        except ValueError:
            raise DataKeyError(f"{KEY_VARIABLE}: every key must be 32 url-safe base64-encoded "
                            "bytes (make one with `callscript db new-key`)") from None

    @classmethod
    def from_env(cls) -> Cipher:
        raw = os.environ.get(KEY_VARIABLE, "")
        return cls([k for k in raw.split(",") if k.strip()])

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def encrypt(self, text: str) -> str:
        if self._fernet is None:
            return _PLAIN + text
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if stored.startswith(_PLAIN):
            return stored[len(_PLAIN):]
        if self._fernet is None:
            raise DataKeyError(f"stored data is encrypted: set {KEY_VARIABLE}")
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise DataKeyError(f"no key in {KEY_VARIABLE} decrypts the stored data") from None

    def rotate(self, stored: str) -> str:
        """The same text encrypted with the first key (plain text gets encrypted)."""
        if self._fernet is None:
            raise DataKeyError(f"rotation needs {KEY_VARIABLE}")
        if stored.startswith(_PLAIN):
            return self.encrypt(stored[len(_PLAIN):])
        try:
            return self._fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            raise DataKeyError(f"no key in {KEY_VARIABLE} decrypts the stored data") from None

    def maybe_encrypt(self, text: str | None) -> str | None:
        return None if text is None else self.encrypt(text)

    def maybe_decrypt(self, stored: str | None) -> str | None:
        return None if stored is None else self.decrypt(stored)


def new_key() -> str:
    return Fernet.generate_key().decode()
