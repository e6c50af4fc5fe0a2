"""Validation of captured values: one pydantic adapter per capture type."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints, TypeAdapter, ValidationError

from callscript.spec import CaptureSpec

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
_Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?\d[\d\- ]{4,18}\d$")]

_LAZY = ConfigDict(defer_build=True)  # built on first use, not at import
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "text": TypeAdapter(_Text, config=_LAZY),
    "phone": TypeAdapter(_Phone, config=_LAZY),
    "date": TypeAdapter(date, config=_LAZY),
    "datetime": TypeAdapter(datetime, config=_LAZY),
    "int": TypeAdapter(int, config=_LAZY),
    "decimal": TypeAdapter(Decimal, config=_LAZY),
    "bool": TypeAdapter(bool, config=_LAZY),
    "choice": TypeAdapter(str, config=_LAZY),
}

_EXPECTED = {
    "text": "non-empty text of at most 500 characters",
    "phone": "a phone number (digits, optionally with + - or spaces)",
    "date": "a date such as 2026-05-01",
    "datetime": "a date and time such as 2026-05-01T15:00:00+08:00",
    "int": "a whole number",
    "decimal": "a number",
    "bool": "true or false",
}


def validate_captures(specs: tuple[CaptureSpec, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values, or ValueError listing every problem. Never echoes a value."""
    known = {spec.name for spec in specs}
    problems = [f"{name!r} is not captured here" for name in given if name not in known]
    values: dict[str, Any] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                problems.append(f"{spec.name!r} ({spec.label}) is required")
            continue
        try:
            value = _ADAPTERS[spec.type].validate_python(raw)
        except ValidationError:
            problems.append(f"{spec.name!r} ({spec.label}) must be {_EXPECTED[spec.type]}")
            continue
        if spec.type == "choice" and value not in (spec.choices or ()):
            problems.append(f"{spec.name!r} ({spec.label}) must be one of "
                            f"{', '.join(spec.choices or ())}")
            continue
        values[spec.name] = value
    if problems:
        raise ValueError(problems)
    return values


def to_json(value: Any) -> Any:
    """A captured value as JSON data (dates as ISO text, decimals as text)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json(spec: CaptureSpec, value: Any) -> Any:
    return _ADAPTERS[spec.type].validate_python(value)
