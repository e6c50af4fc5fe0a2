"""The one place where the planner meets the call context's schema.

Everything the planner knows about context fields comes from ``context_fields()``
and ``known_dispositions()``: today they mirror ``callscript.context.CallContext``
and ``callscript.spec.Outcome``; when the context schema and the dispositions
become data (a library's context.yaml and dispositions.yaml), only these two
functions change. The rest of the module turns customer-file columns into typed
columns and checks them as columns (never one pydantic model per row), and
builds the JSON context a call starts with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

FIELD_TYPES = ("text", "integer", "money", "date", "month", "phone", "bool", "choice")
_PHONE = r"^\+?\d{5,15}$"
_MONEY = r"^\d{1,12}(\.\d{1,2})?$"
_TRUE = ("true", "1", "yes", "y", "是")
_FALSE = ("false", "0", "no", "n", "否")


@dataclass(frozen=True, slots=True)
class Field:
    """One context field, or one planner column, as the planner checks it."""

    type: str
    sensitive: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: bool | None = None  # bool fields only: the value of an empty cell


def context_fields() -> dict[str, Field]:
    """Context paths a customer column may fill, with their types and constraints.

    Mirrors callscript.context (Customer, Billing, Agent); a test checks both agree.
    """
    return {
        "customer.name": Field("text", max_length=40),
        "customer.title": Field("choice", choices=("先生", "女士")),
        "customer.phone": Field("phone", sensitive=True),
        "customer.is_holder": Field("bool", default=True),
        "customer.reference": Field("text", max_length=64),
        "billing.last_month": Field("money"),
        "billing.this_month": Field("money"),
        "billing.idle_since_month": Field("month"),
        "billing.suspended_since_month": Field("month"),
        "agent.id": Field("text", max_length=64),
        "agent.name": Field("text", max_length=40),
        "agent.phone": Field("text", max_length=20),
    }


def known_dispositions() -> frozenset[str]:
    """The disposition ids a policy may give retry rules for."""
    from callscript.spec import Outcome

    return frozenset(o.value for o in Outcome)


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
            bad, message = ~value.str.contains(_PHONE), "not a phone number (5 to 15 digits)"
        elif field.max_length is not None:
            bad = value.str.len_chars() > field.max_length
            message = f"longer than {field.max_length} characters"
    elif field.type in ("integer", "month"):
        typed = value.str.to_integer(strict=False)
        low, high = (1, 12) if field.type == "month" else (field.minimum, field.maximum)
        bad = typed.is_null()
        for limit, check in ((low, typed < (low or 0)), (high, typed > (high or 0))):
            if limit is not None:
                bad = bad | check
        message = "not a month (1 to 12)" if field.type == "month" else "not a whole number in range"
    elif field.type == "money":
        bad, message = ~value.str.contains(_MONEY), "not an amount of yuan (like 128.50)"
        typed = pl.when(bad).then(None).otherwise(value).cast(pl.Float64)
    elif field.type == "date":
        typed = value.str.to_date("%Y-%m-%d", strict=False)
        bad, message = typed.is_null(), "not a date (YYYY-MM-DD)"
    elif field.type == "bool":
        lowered = value.str.to_lowercase()
        typed = (pl.when(lowered.is_in(_TRUE)).then(True)
                 .when(lowered.is_in(_FALSE)).then(False).otherwise(None))
        bad, message = typed.is_null(), "not true or false"
        if field.default is not None:
            typed = typed.fill_null(field.default)
    else:  # policy validation refuses other types
        raise ValueError(f"unknown field type {field.type!r}")
    problem = pl.when(~empty & bad.fill_null(True)).then(pl.lit(message)).otherwise(None)
    if column.required:
        problem = pl.when(empty).then(pl.lit("empty, but required")).otherwise(problem)
    return typed, problem


def validate(frame: pl.DataFrame, columns: Sequence[Column], line: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that pass, typed; rejects as line, field, problem), all as column operations.

    ``frame`` holds the file's cells as text and ``line`` the row's line in the file.
    A rejected row is listed once per failing field; its values never leave it.
    """
    typed_exprs: list[pl.Expr] = []
    problems: list[pl.Expr] = []
    for column in columns:
        typed, problem = _parse(column)
        typed_exprs.append(typed.alias(column.path))
        if column.field.type == "money":
            typed_exprs.append(pl.when(problem.is_null()).then(pl.col(column.name)).otherwise(None)
                               .alias(text_column(column.path)))
        problems.append(problem.alias(f"!{column.name}"))
    # lazy: both cores share the columns, and common subexpressions are computed once
    checked = (frame.lazy().select(pl.col(line), *(_clean(c.name) for c in columns))
               .select(pl.col(line), *typed_exprs, *problems).collect())
    flags = [f"!{c.name}" for c in columns]
    any_bad = pl.any_horizontal(pl.col(f).is_not_null() for f in flags)
    rejects = (checked.filter(any_bad).select(line, *flags)
               .unpivot(index=line, on=flags, variable_name="field", value_name="problem")
               .filter(pl.col("problem").is_not_null())
               .select(pl.col(line).alias("line"), pl.col("field").str.strip_prefix("!"), "problem")
               .sort("line", "field"))
    good = checked.filter(~any_bad).drop(flags)
    return good, rejects


def context_json(columns: Sequence[Column], agent: Mapping[str, str]) -> pl.Expr:
    """The JSON context of each row: context fields by part, and the agent's fields.

    ``agent`` maps agent context fields (id, name, phone) to frame columns.
    Money goes as written (``128.50``), so lines read the bill as the billing
    system printed it.
    """
    parts: dict[str, list[pl.Expr]] = {}
    for column in columns:
        if not column.in_context or column.path.startswith("agent."):
            continue
        part, name = column.path.split(".", 1)
        source = text_column(column.path) if column.field.type == "money" else column.path
        parts.setdefault(part, []).append(pl.col(source).alias(name))
    parts["agent"] = [pl.col(source).alias(name) for name, source in agent.items()]
    return pl.struct(*(pl.struct(*fields).alias(part) for part, fields in parts.items())).struct.json_encode()
