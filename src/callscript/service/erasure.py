"""Records, and erasing a customer's personal data on request (PIPL).

Erasure keeps each call's record anonymised: the customer's reference is
dropped, every captured value masked, the lines said masked where they hold
the customer's data, complaint texts removed; the context and snapshot are
deleted, event details cleared and the call's idempotency keys (which hold
whole responses) deleted. Follow-ups hold no personal data and stay. The customer's planned worklist
rows (their context is personal data) are deleted.
"""

from __future__ import annotations

import json
from typing import Any

from callscript.privacy import mask, mask_digit_runs
from callscript.service.auth import User
from callscript.service.library import personal_values
from callscript.service.operations import load_json, record_of, restore, visible_call
from callscript.service.problems import ApiError
from callscript.service.state import Service
from callscript.store import repo, worklist_repo


def read_record(svc: Service, user: User, call_id: str) -> dict[str, Any]:
    """Unredacted for the call's agent and integrators; redacted for supervisors."""
    with svc.engine.begin() as conn:
        row = visible_call(conn, user, call_id)
        if row.erased_record is not None:
            data: dict[str, Any] = json.loads(row.erased_record)
            return data
        call, _ = restore(svc, row)
        return record_of(svc, row, call, redacted=user.role == "supervisor")


def erase_values(text: str, secrets: list[str]) -> str:
    """Every secret masked, however short (privacy.mask_text keeps one-character values,
    such as a family name, for readable logs; an erased record keeps none), then digit runs."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, "***")  # nothing of it kept (mask() keeps a prefix)
    return mask_digit_runs(text)


def anonymise(record: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    def lines(items: list[str]) -> list[str]:
        return [erase_values(line, secrets) for line in items]

    def values(captures: dict[str, Any]) -> dict[str, Any]:
        return {k: None if v is None else mask(v) for k, v in captures.items()}

    return {**record, "customer_ref": None, "captures": values(record["captures"]),
            "path": [{**e, "lines": lines(e["lines"]), "captures": values(e["captures"])}
                     for e in record["path"]],
            "complaints": [{**c, "text": None} for c in record["complaints"]]}


def erase_customer(svc: Service, user: User, customer_ref: str) -> int:
    if user.role == "agent":
        raise ApiError(403, "Forbidden", "erasure is for supervisors and integrators")
    erased = 0
    with svc.engine.begin() as conn:
        for row in repo.calls_of_customer(conn, customer_ref):
            if row.snapshot is None:
                continue
            call, _ = restore(svc, row)
            secrets = personal_values(call.flow, load_json(svc, row.context))
            secrets += [str(v) for v in call.record().captures.values() if isinstance(v, str)]
            record = anonymise(record_of(svc, row, call, redacted=True), secrets)
            new_status = "erased" if row.status == "live" else row.status
            values = {"context": None, "snapshot": None, "customer_ref": None,
                      "erased_record": json.dumps(record, ensure_ascii=False),
                      "status": new_status, "updated_at": svc.clock()}
            if not repo.update_call(conn, row.id, row.revision, **values):
                raise ApiError(409, "Call moved during erasure", "try again")
            repo.erase_event_details(conn, row.id)
            repo.delete_keys(conn, row.id)
            erased += 1
        worklist_repo.erase_customer(conn, customer_ref)  # planned rows hold their context
    return erased
