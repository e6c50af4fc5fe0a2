"""What the runtime needs from a call's context, in one place.

The context's shape belongs to the library's context schema (context.yaml); the
runtime only asks the questions below (validate it, fingerprint the customer,
the time zone, who is calling whom, which values are personal). Each is
answered here, from the schema, and nowhere else.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import BaseModel

from callscript.context import schema_of
from callscript.errors import ArgumentError, ContextError
from callscript.rules.calendar import CHINA

if TYPE_CHECKING:
    from callscript.compile import Flow

CallContext = BaseModel  # a context: an instance of its library's schema model (flow.schema.model)


def check_context(flow: Flow, context: CallContext | Mapping[str, Any], *,
                  placeholders: bool = False) -> CallContext:
    """The validated context, or ContextError naming invalid or missing fields (never values).

    A field the agent's lines say that is left unset (an agent or deployment field, which
    would be said as its placeholder ``XXXXXXX``) or set to its placeholder is refused,
    unless ``placeholders`` asks for them on purpose (a demo, a rehearsal, printing).
    """
    if not isinstance(context, BaseModel | Mapping):
        raise ArgumentError("context", "a mapping of context parts or a validated context",
                            context)
    schema = flow.schema
    checked = schema.validate(flow.id, context)
    required, spoken = _checks(flow)
    missing = [p for p, part, name in required if getattr(getattr(checked, part), name) is None]
    if missing:
        raise ContextError(flow.id, f"missing context fields: {', '.join(missing)}", missing)
    # A declared optional field may be None (a line branches on it); an implicit one left
    # unset would be said as its placeholder, and so would a placeholder given as a value.
    unset = [p for p, part, name, placeholder, implicit in spoken
             if ((value := getattr(getattr(checked, part), name)) == placeholder
                 or (value is None and implicit))]
    if unset and not placeholders:
        raise ContextError(flow.id, "the agent would say a placeholder; set these fields "
                                    f"(or pass placeholders=True to rehearse): {', '.join(unset)}",
                           unset)
    return schema.placeholder_context(checked, only=unset) if unset else checked


Required = tuple[tuple[str, str, str], ...]  # (path, part, field), sorted by path
Spoken = tuple[tuple[str, str, str, str, bool], ...]  # ... placeholder, implicit
_CHECKS: dict[int, tuple[Flow, Required, Spoken]] = {}


def _checks(flow: Flow) -> tuple[Required, Spoken]:
    """What check_context looks at for ``flow``, worked out once per flow: its required
    fields, and the fields its lines say that have a placeholder."""
    known = _CHECKS.get(id(flow))
    if known is not None and known[0] is flow:
        return known[1], known[2]
    schema = flow.schema
    required = tuple(_where(p) for p in sorted(flow.required_context))
    spoken: Spoken = ()
    for p in sorted(flow.spoken_context):
        placeholder = schema.fields[p].placeholder
        if placeholder is not None:
            spoken += ((*_where(p), placeholder, p in schema.implicit),)
    if len(_CHECKS) > 256:  # flows compiled again and again (tests, reloads): stay small
        _CHECKS.clear()
    _CHECKS[id(flow)] = (flow, required, spoken)
    return required, spoken


def _where(path: str) -> tuple[str, str, str]:
    part, name = path.split(".", 1)
    return path, part, name


def fingerprinted_parts(context: CallContext) -> dict[str, dict[str, Any]]:
    """The parts of the context a call is bound to: those the schema marks per_customer.

    The agent and the deployment may change between requests of one call (another
    agent takes over, a hotline changes); who is called, and their figures, may not.
    """
    return {name: dict(getattr(context, name).__dict__) for name in schema_of(context).per_customer}


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
    deployment = getattr(context, "deployment", None)
    zone = getattr(deployment, "__dict__", {}).get("time_zone")  # getattr would raise and catch
    return zone if isinstance(zone, tzinfo) else CHINA


def record_identity(context: CallContext) -> tuple[str | None, str | None]:
    """(agent id, customer reference) for the record: the fields the schema marks record_as."""
    schema = schema_of(context)
    return schema.recorded_value(context, "agent_id"), schema.recorded_value(context, "customer_ref")


def personal_values(context: CallContext) -> tuple[str, ...]:
    """The context's personal values, to mask wherever they appear in text."""
    schema = schema_of(context)
    values = (schema.value(context, path) for path in sorted(schema.sensitive))
    return tuple(str(v) for v in values if v not in (None, ""))
