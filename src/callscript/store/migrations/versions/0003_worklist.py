"""The stored worklist: `callscript plan --db` writes it, GET /v1/worklist serves it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callscript.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worklist_plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("planned_at", UTCDateTime, nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer),
        sa.Column("calendar_estimated", sa.Boolean, nullable=False),
    )
    op.create_index("ix_worklist_plans_day", "worklist_plans", ["day"])
    op.create_table(
        "worklist",
        sa.Column("plan_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("customer_ref", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("window_start", sa.String(40), nullable=False),
        sa.Column("window_end", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("context", sa.Text),
    )
    op.create_index("ix_worklist_plan_agent_seq", "worklist", ["plan_id", "agent_id", "seq"])
    op.create_index("ix_worklist_customer_ref", "worklist", ["customer_ref"])


def downgrade() -> None:
    op.drop_table("worklist")
    op.drop_table("worklist_plans")
