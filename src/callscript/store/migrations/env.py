"""Alembic environment: always handed a connection by callscript.store.db.upgrade."""

from __future__ import annotations

from alembic import context

from callscript.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
