"""What the runtime needs from a call's context, in one place.

The context's shape belongs to the context schema; the runtime only asks the
questions below (validate it, fingerprint the customer, the time zone, who is
calling whom, which values are personal). Each is answered here and nowhere else.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import ValidationError

from callscript.context import SENSITIVE_CONTEXT_FIELDS, CallContext, context_value
from callscript.errors import ArgumentError, ContextError
from callscript.rules.calendar import CHINA

if TYPE_CHECKING:
    from callscript.compile import Flow


def check_context(flow: Flow, context: CallContext | Mapping[str, Any]) -> CallContext:
    """The validated context, or ContextError naming invalid or missing fields (never values)."""
    if not isinstance(context, CallContext):
        if not isinstance(context, Mapping):
            raise ArgumentError("context", "a mapping of context parts or a CallContext", context)
        try:
            context = CallContext.model_validate(context)
        except ValidationError as err:
            wrong = sorted({".".join(str(p) for p in e["loc"]) or "(the context itself)"
                            for e in err.errors()})
            raise ContextError(flow.id, f"invalid context fields: {', '.join(wrong)}") from None
    missing = sorted(p for p in flow.required_context if context_value(context, p) is None)
    if missing:
        raise ContextError(flow.id, f"missing context fields: {', '.join(missing)}", missing)
    return context


def fingerprinted_parts(context: CallContext) -> dict[str, dict[str, Any]]:
    """The parts of the context a call is bound to: who is called and their bill.

    The agent and the deployment may change between requests of one call (another
    agent takes over, a hotline changes); the customer and the billing may not.
    """
    return {"customer": dict(context.customer.__dict__), "billing": dict(context.billing.__dict__)}


_SORTED = msgspec.json.Encoder(order="sorted")


def fingerprint(context: CallContext, salt: bytes) -> str:
    """HMAC-SHA256 of the fingerprinted parts, keyed by the call's random salt."""
    parts = fingerprinted_parts(context)
    for part in parts.values():
        for key, value in part.items():
            if isinstance(value, Decimal):  # 100, 100.0 and 100.00 are one amount
                part[key] = float(value)
    return hmac.digest(salt, _SORTED.encode(parts), "sha256").hex()


def deployment_zone(context: CallContext) -> tzinfo:
    """The time zone a datetime without an offset is read in."""
    zone = context.deployment.__dict__.get("time_zone")  # getattr would raise and catch
    return zone if isinstance(zone, tzinfo) else CHINA


def record_identity(context: CallContext) -> tuple[str | None, str | None]:
    """(agent id, customer reference) for the record."""
    return context.agent.id, context.customer.reference


def personal_values(context: CallContext) -> tuple[str, ...]:
    """The context's personal values, to mask wherever they appear in text."""
    values = (context_value(context, path) for path in sorted(SENSITIVE_CONTEXT_FIELDS))
    return tuple(str(v) for v in values if v not in (None, ""))
