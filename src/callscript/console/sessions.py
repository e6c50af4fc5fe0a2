"""Console sessions: a signed cookie naming the user and the hash of the token it signed in with.

The cookie is HttpOnly and SameSite=Strict and signed (HMAC-SHA256) with a key derived
from CALLSCRIPT_DATA_KEY, so every worker of one installation accepts it. Each request
checks the token hash against the users table: a token removed with `users remove` ends
its sessions at once. Before sign-in the cookie holds only a nonce, which the CSRF
token of the sign-in form is derived from; after it, the CSRF token of every form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from callscript.store.crypto import KEY_VARIABLE

COOKIE = "callscript_session"
MAX_AGE_SECONDS = 12 * 3600  # one working day: then sign in again


def session_secret() -> bytes:
    """The signing key: derived from the first data key; without one (serve --dev), random per
    process, so sessions then last as long as the process and need a single worker."""
    first = os.environ.get(KEY_VARIABLE, "").split(",")[0].strip()
    if not first:
        return secrets.token_bytes(32)
    return hmac.new(first.encode(), b"callscript console session", hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    nonce: str
    user: str | None = None
    token_hash: str | None = None
    issued: float = 0.0


class Signer:
    def __init__(self, secret: bytes, max_age: int = MAX_AGE_SECONDS) -> None:
        self._secret = secret
        self.max_age = max_age

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def dump(self, session: Session) -> str:
        payload = {"n": session.nonce, "u": session.user, "h": session.token_hash,
                   "t": session.issued}
        # unpadded: a cookie value with "=" would be sent quoted
        data = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()
                                        ).rstrip(b"=")
        return f"{data.decode()}.{self._mac(data)}"

    def load(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing or forged (age: ``expired``)."""
        if not cookie or "." not in cookie:
            return None
        data, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(data.encode())):
            return None
        try:
            payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(
                data.encode() + b"=" * (-len(data) % 4)))
            session = Session(str(payload["n"]), payload.get("u"), payload.get("h"),
                              float(payload.get("t") or 0))
        except (ValueError, KeyError, TypeError):
            return None
        return session

    def expired(self, session: Session) -> bool:
        return time.time() - session.issued > self.max_age

    def csrf(self, session: Session) -> str:
        return self._mac(f"csrf:{session.nonce}".encode())

    def csrf_ok(self, session: Session | None, given: str | None) -> bool:
        return session is not None and bool(given) and hmac.compare_digest(
            self.csrf(session), given or "")


def new_session(user: str | None = None, token_hash: str | None = None) -> Session:
    return Session(secrets.token_urlsafe(18), user, token_hash, time.time() if user else 0.0)
