"""Bearer tokens, stored hashed, and the three roles.

| role | may |
| --- | --- |
| agent | start its own calls, act on and read its own calls (unredacted), its follow-ups |
| supervisor | read every call, redacted records, follow-ups, events; erase on request |
| integrator | start calls for agents, read every call, unredacted records, events, follow-ups; erase |

Another agent's call is 404, not 403, so call ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

ROLES = ("agent", "supervisor", "integrator")
TOKEN_PREFIX = "cs_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # tokens are 256 random bits: a fast hash is enough, no salt or stretching needed
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    def sees_call_of(self, agent: str) -> bool:
        return not self.is_agent or agent == self.name
