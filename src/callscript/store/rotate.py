"""Re-encrypt every encrypted column with the first data key (``callscript db rotate-key``)."""

from __future__ import annotations

from sqlalchemy import Engine, Table, select, tuple_, update

from callscript.store.crypto import Cipher
from callscript.store.tables import calls, events, idempotency, users, worklist

ENCRYPTED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (users, ("display_name", "phone")),
    (calls, ("context", "snapshot")),
    (events, ("detail",)),
    (idempotency, ("response",)),
    (worklist, ("context",)),
)


def rotate(engine: Engine, cipher: Cipher, batch: int = 500) -> int:
    """How many values were re-encrypted. Each batch is its own transaction, so a live
    service goes on working; a value written meanwhile is already under the first key."""
    done = 0
    for table, columns in ENCRYPTED:
        keys = list(table.primary_key.columns)
        last: tuple[object, ...] | None = None
        while True:
            with engine.begin() as conn:
                query = select(*keys, *(table.c[c] for c in columns)).order_by(*keys).limit(batch)
                if last is not None:
                    query = query.where(tuple_(*keys) > tuple_(*last))
                rows = conn.execute(query).all()
                for row in rows:
                    values = {c: cipher.rotate(row._mapping[c]) for c in columns
                              if row._mapping[c] is not None}
                    if values:
                        where = [k == row._mapping[k.name] for k in keys]
                        conn.execute(update(table).where(*where).values(**values))
                        done += len(values)
            if len(rows) < batch:
                break
            last = tuple(rows[-1]._mapping[k.name] for k in keys)
    return done
