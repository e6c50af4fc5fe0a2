"""Webhook delivery state: how far each receiver has been sent the outbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callscript.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_cursors",
        sa.Column("endpoint", sa.String(64), primary_key=True),
        sa.Column("last_event_id", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursors")
