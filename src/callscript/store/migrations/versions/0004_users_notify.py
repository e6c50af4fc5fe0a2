"""On PostgreSQL, every change to users is announced (NOTIFY callscript_users).

Each worker remembers whose a token is only while it hears these announcements
(service/tokens.py), so a removed or replaced token stops working in every worker
as soon as the change commits, whoever made it (`callscript users`, or plain SQL).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHANNEL = "callscript_users"  # service/tokens.py listens on it


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one process serves; it reads users on every request
    op.execute(f"""
        CREATE FUNCTION callscript_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION callscript_users_changed()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER users_changed ON users")
    op.execute("DROP FUNCTION callscript_users_changed()")
