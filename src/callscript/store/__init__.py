"""The service's store: calls, events (an outbox), follow-ups, users, idempotency keys.

SQLAlchemy 2 Core on SQLite (the embedded default) or PostgreSQL; the schema is
created and upgraded by the Alembic migrations shipped in ``migrations/``.
Imported only by the service and its commands, never by ``import callscript``.
"""
