"""The tables, as SQLAlchemy Core objects. The migrations create them; a test keeps both equal.

Columns holding personal data (contexts, snapshots, event details, stored responses,
agents' names and phones) hold text encrypted by ``store.crypto``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite gives back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGSERIAL on PostgreSQL; SQLite's autoincrement needs INTEGER PRIMARY KEY
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("display_name", Text),  # encrypted
    Column("phone", Text),  # encrypted
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

calls = Table(
    "calls", metadata,
    Column("id", String(32), primary_key=True),
    Column("flow", String(64), nullable=False),
    Column("flow_version", Integer, nullable=False),
    Column("agent", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # live | ended | abandoned | expired
    Column("step", String(128), nullable=False),
    Column("outcome", String(32)),
    Column("revision", Integer, nullable=False),
    Column("event_seq", Integer, nullable=False),  # the last event's number in this call
    Column("customer_ref", String(64)),
    Column("context", Text),  # encrypted; NULL once erased
    Column("snapshot", Text),  # encrypted; NULL once erased
    Column("erased_record", Text),  # the anonymised record, plain JSON, once erased
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_calls_agent_id", "agent", "id"),
    Index("ix_calls_status_updated", "status", "updated_at"),
    Index("ix_calls_customer_ref", "customer_ref"),
)

events = Table(
    "events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("call_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("step", String(128), nullable=False),
    Column("detail", Text),  # encrypted JSON; NULL when there is none or once erased
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("call_id", "seq", name="uq_events_call_seq"),
)

follow_ups = Table(
    "follow_ups", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("call_id", String(32), nullable=False, index=True),
    Column("agent", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("due", String(40)),  # ISO day or datetime, as the record has it
    Column("due_day", Date),  # for ordering and due_before
    Column("estimated", Boolean, nullable=False),
    Column("note", Text, nullable=False),
    Column("step", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Column("done_by", String(64)),
    Index("ix_follow_ups_open_due", "done_at", "due_day"),
)

idempotency = Table(
    "idempotency", metadata,
    Column("scope", String(64), primary_key=True),  # a call id, or "start:" + the user
    Column("key", String(255), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("call_id", String(32), index=True),  # the call it started or moved, for erasure
    Column("response", Text, nullable=False),  # encrypted: status, headers, body
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

webhook_cursors = Table(
    "webhook_cursors", metadata,
    # sha256 of the receiver's URL (the URL itself may hold a credential: not stored)
    Column("endpoint", String(64), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False),  # delivered up to here, in id order
    Column("lease_owner", String(64)),  # the worker delivering now: one at a time
    Column("lease_until", UTCDateTime),
    Column("failures", Integer, nullable=False),  # failed attempts at the next event
    Column("updated_at", UTCDateTime, nullable=False),
)

# The worklist planned by `callscript plan --db` (docs/planning.md): the day's plan is its
# finished one; planning the day again replaces it (store.worklist_repo says how).
worklist_plans = Table(
    "worklist_plans", metadata,
    Column("id", String(32), primary_key=True),
    Column("day", Date, nullable=False, index=True),
    Column("planned_at", UTCDateTime, nullable=False),
    Column("policy", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),  # the policy's: the windows' offset
    Column("rows", Integer),  # NULL while its rows are being written: not served yet
    Column("calendar_estimated", Boolean, nullable=False),
)

worklist = Table(
    "worklist", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the planner's order: agent, window, priority
    Column("agent_id", String(64)),  # NULL: nobody assigned (no agents file, no manager)
    Column("customer_ref", String(64), nullable=False),
    Column("flow", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("window_start", String(40), nullable=False),  # ISO 8601 with the policy's offset
    Column("window_end", String(40), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("context", Text),  # encrypted JSON: the customer's parts of the call's context
    Index("ix_worklist_plan_agent_seq", "plan_id", "agent_id", "seq"),
    Index("ix_worklist_customer_ref", "customer_ref"),
)
