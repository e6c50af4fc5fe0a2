"""What every request handler shares: the database, the key, the flows, the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from callscript.service.library import Library
from callscript.store.crypto import Cipher
from callscript.store.db import reader, writer

if TYPE_CHECKING:
    from callscript.service.tokens import Users
    from callscript.service.webhooks import WebhookConfig


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Service:
    engine: Engine
    cipher: Cipher
    library: Library
    deployment: Mapping[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = utc_now
    expire_after: timedelta = timedelta(hours=4)  # a live call idle this long expires
    key_ttl: timedelta = timedelta(hours=24)  # idempotency keys are kept this long
    webhook: WebhookConfig | None = None  # where the outbox is delivered, if anywhere

    @cached_property
    def reads(self) -> Engine:
        """The engine for read-only transactions (see store.db.reader)."""
        return reader(self.engine)

    @cached_property
    def writes(self) -> Engine:
        """The engine a start's or a turn's one write uses (see store.db.writer)."""
        return writer(self.engine)

    @cached_property
    def users(self) -> Users:
        """Whose a bearer token is (see service.tokens); its listener runs with the app."""
        from callscript.service.tokens import Users

        return Users(self.engine)
