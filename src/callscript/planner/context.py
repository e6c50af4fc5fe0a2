"""The one place where the planner meets the library's context schema.

The planner turns customer-file columns into the typed fields of the library's
``context.yaml`` and checks them as columns (Polars expressions derived from each
field's type and constraints, never one pydantic model per row), then builds the
JSON context each call starts with. A test checks that these column checks accept
exactly what the schema's own model accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from callscript.context import ContextSchema, expected

FIELD_TYPES = ("text", "integer", "money", "decimal", "date", "month", "phone", "bool", "choice")
# [0-9], not \d: Rust's \d also matches other scripts' digits (٠), which casts cannot read
_PHONE = r"^\+?[0-9][0-9\- ]*[0-9]$"
_NUMBER = r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"
_TRUE = ("true", "1", "yes", "y", "是")
_FALSE = ("false", "0", "no", "n", "否")


@dataclass(frozen=True, slots=True)
class Field:
    """One context field, or one planner column, as the planner checks it."""

    type: str
    sensitive: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    default: Any = None  # the value of an empty cell
    expected: str = ""  # what a valid value looks like, said in the rejects file


def context_fields(schema: ContextSchema) -> dict[str, Field]:
    """The schema's per-customer fields (customer, billing, …) that a column may fill.

    Implicit parts (the agent, the deployment) come from the agents file and the
    deployment's values, not from the customer file.
    """
    return {path: Field(spec.type, spec.sensitive, spec.max_length, tuple(spec.choices or ()),
                        spec.min, spec.max, spec.default, expected(spec))
            for path, spec in schema.fields.items() if path not in schema.implicit}


@dataclass(frozen=True, slots=True)
class Column:
    """A customer-file column: its name in the file, where it goes, and its type.

    ``path`` is a context path (``customer.name``) or, for a column the planner
    reads but the call does not (``opened_on``), ``row.<column>``.
    """

    name: str
    path: str
    field: Field
    required: bool = False

    @property
    def in_context(self) -> bool:
        return not self.path.startswith("row.")


def agent_columns(schema: ContextSchema) -> list[Column]:
    """The agents file's name and phone, checked as the schema's agent fields."""
    return [Column(name, f"agent.{name}", Field(spec.type, spec.sensitive, spec.max_length,
                                                 tuple(spec.choices or ()), spec.min, spec.max,
                                                 expected=expected(spec)), required=True)
            for name in ("name", "phone") if (spec := schema.fields.get(f"agent.{name}")) is not None]


def text_column(path: str) -> str:
    """The frame column holding a money value as written (``128.50``), for the context."""
    return f"{path}#text"


def _clean(name: str) -> pl.Expr:
    """A cell without surrounding blanks; an empty cell is null."""
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(name)


def _parse(column: Column) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, problem message or null) for one cleaned text column (see _clean)."""
    value = pl.col(column.name)
    empty = value.is_null()
    field = column.field
    bad: pl.Expr = pl.lit(False)
    message = ""
    typed: pl.Expr
    if field.type in ("text", "choice", "phone"):
        typed = value
        if field.type == "choice":
            bad, message = ~value.is_in(list(field.choices)), f"not one of {', '.join(field.choices)}"
        elif field.type == "phone":
            digits = value.str.count_matches(r"[0-9]")
            bad = ~value.str.contains(_PHONE) | (digits < 5) | (digits > 15)
            message = "not a phone number (5 to 15 digits)"
        elif field.max_length is not None:
            bad = value.str.len_chars() > field.max_length
            message = f"longer than {field.max_length} characters"
    elif field.type in ("integer", "month"):
        typed = value.str.to_integer(strict=False)
        low, high = (1, 12) if field.type == "month" else (field.minimum, field.maximum)
        bad = typed.is_null()
        if low is not None:
            bad = bad | (typed < float(low))
        if high is not None:
            bad = bad | (typed > float(high))
        message = "not a month (1 to 12)" if field.type == "month" else "not a whole number in range"
    elif field.type in ("money", "decimal"):
        number = pl.when(value.str.contains(_NUMBER)).then(value).cast(pl.Float64, strict=False)
        bad = number.is_null()
        if field.minimum is not None:
            bad = bad | (number < float(field.minimum))
        if field.maximum is not None:
            bad = bad | (number > float(field.maximum))
        typed = pl.when(bad).then(None).otherwise(number)
        message = "not an amount (like 128.50) in range"
    elif field.type == "date":
        typed = value.str.to_date("%Y-%m-%d", strict=False)
        bad, message = typed.is_null(), "not a date (YYYY-MM-DD)"
    elif field.type == "bool":
        lowered = value.str.to_lowercase()
        typed = (pl.when(lowered.is_in(_TRUE)).then(True)
                 .when(lowered.is_in(_FALSE)).then(False).otherwise(None))
        bad, message = typed.is_null(), "not true or false"
    else:  # policy validation refuses other types
        raise ValueError(f"unknown field type {field.type!r}")
    if field.default is not None:  # an empty cell is the field's default, as in the schema
        typed = typed.fill_null(pl.lit(float(field.default) if isinstance(field.default, Decimal)
                                       else field.default))
    problem = pl.when(~empty & bad.fill_null(True)).then(pl.lit(field.expected or message)).otherwise(None)
    if column.required:
        problem = pl.when(empty).then(pl.lit("empty, but required")).otherwise(problem)
    return typed, problem


def validate(frame: pl.DataFrame, columns: Sequence[Column], line: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that pass, typed; rejects as line, field, problem), all as column operations.

    ``frame`` holds the file's cells as text and ``line`` the row's line in the file.
    A rejected row is listed once per failing field; its values never leave it.
    """
    return split_checked(check_columns(frame, columns, line).collect(), columns, line)


def check_columns(frame: pl.DataFrame, columns: Sequence[Column], line: str) -> pl.LazyFrame:
    """The typed columns and a problem column per column (null: fine), as a lazy query
    (the planner runs it together with reading the records)."""
    typed_exprs: list[pl.Expr] = []
    problems: list[pl.Expr] = []
    for column in columns:
        typed, problem = _parse(column)
        typed_exprs.append(typed.alias(column.path))
        if column.field.type in ("money", "decimal"):
            written = pl.col(column.name)
            if column.field.default is not None:
                written = written.fill_null(pl.lit(str(column.field.default)))
            typed_exprs.append(pl.when(problem.is_null()).then(written).otherwise(None)
                               .alias(text_column(column.path)))
        problems.append(problem.alias(f"!{column.name}"))
    # lazy: both cores share the columns, and common subexpressions are computed once
    return (frame.lazy().select(pl.col(line), *(_clean(c.name) for c in columns))
            .select(pl.col(line), *typed_exprs, *problems))


def split_checked(checked: pl.DataFrame, columns: Sequence[Column],
                  line: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good rows without the problem columns, rejects) of ``check_columns``' result."""
    flags = [f"!{c.name}" for c in columns]
    any_bad = pl.any_horizontal(pl.col(f).is_not_null() for f in flags)
    rejects = (checked.filter(any_bad).select(line, *flags)
               .unpivot(index=line, on=flags, variable_name="field", value_name="problem")
               .filter(pl.col("problem").is_not_null())
               .select(pl.col(line).alias("line"), pl.col("field").str.strip_prefix("!"), "problem")
               .sort("line", "field"))
    good = checked.filter(~any_bad).drop(flags)
    return good, rejects


def context_json(columns: Sequence[Column], agent: Mapping[str, str],
                 constants: Mapping[str, Mapping[str, Any]]) -> pl.Expr:
    """The JSON context of each row: fields by part, the agent's fields, and constant parts.

    ``agent`` maps agent fields (id, name, phone) to frame columns; ``constants``
    are parts the same for every row (the deployment). Money goes as written
    (``128.50``), so lines read the bill as the billing system printed it.
    """
    parts: dict[str, list[pl.Expr]] = {}
    for column in columns:
        if not column.in_context:
            continue
        part, name = column.path.split(".", 1)
        source = text_column(column.path) if column.field.type in ("money", "decimal") else column.path
        parts.setdefault(part, []).append(pl.col(source).alias(name))
    if agent:  # without agent fields: the customer's parts only (what a service call is given)
        parts["agent"] = [pl.col(source).alias(name) for name, source in agent.items()]
    for part, values in constants.items():
        present = set(agent) if part == "agent" else set()  # a row's own agent id wins
        parts.setdefault(part, []).extend(pl.lit(v).alias(k) for k, v in values.items() if k not in present)
    return pl.struct(*(pl.struct(*fields).alias(part) for part, fields in parts.items())).struct.json_encode()


def constant_parts(schema: ContextSchema, flows: Sequence[Any], values: Mapping[str, Any] | None,
                   agents_given: bool) -> dict[str, dict[str, Any]]:
    """The parts every row shares (the deployment), checked against the schema.

    A call refuses to say a placeholder, so every implicit field that the flows'
    lines may say, and that has no default, must be given: agent fields by the
    agents file (or, without one, the ``agent`` part of ``values``: one agent for
    every call), the others in ``values``. Raises ValueError naming what is missing
    or invalid (never a value).
    """
    from callscript.errors import ContextError

    shared_parts = {p.split(".")[0] for p in schema.implicit}
    given = {part: dict(fields) for part, fields in (values or {}).items()}
    for part in given:
        if part not in shared_parts:
            raise ValueError(f"{part!r} is not a shared part of the context "
                             f"({', '.join(sorted(shared_parts))})")
    try:
        schema.validate("plan", given)
    except ContextError as err:
        details = "; ".join(f"{path}: {why}" for path, why in sorted(err.invalid.items()))
        raise ValueError(f"invalid shared values: {details or err}") from None
    if agents_given:
        given.pop("agent", None)  # the agents file says who calls
    provided = {f"{part}.{name}" for part, fields in given.items() for name in fields}
    if agents_given:
        provided |= {p for p in schema.fields if p.startswith("agent.")}
    spoken: set[str] = set().union(*(flow.spoken_context for flow in flows)) if flows else set()
    missing = sorted(p for p in spoken if p in schema.implicit and p not in provided
                     and schema.fields[p].placeholder is not None and schema.fields[p].default is None)
    if missing:
        agent = [p for p in missing if p.startswith("agent.")]
        other = [p for p in missing if not p.startswith("agent.")]
        hints = ([f"{', '.join(other)} (give them in --deployment FILE)"] if other else []) + (
            [f"{', '.join(agent)} (give --agents)"] if agent else [])
        raise ValueError("the flows' lines say fields that have no value: " + "; ".join(hints))
    return given
