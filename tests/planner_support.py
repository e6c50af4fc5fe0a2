"""Shared helpers of the planner tests: customers and records as the files would give them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from callscript.library import builtin_library
from callscript.planner import LoadedPolicy, Planner, PlanResult, builtin_policy
from callscript.planner.assign import holdout_draw
from callscript.planner.inputs import LINE, records_from_frame
from callscript.planner.policy import load_policy_text

COLUMNS = ("customer_ref", "name", "title", "phone", "is_holder", "last_month", "this_month",
           "idle_since_month", "suspended_since_month", "opened_on", "do_not_call", "agent_id")
POLICY_FILE = "src/callscript/libraries/telecom/policy.yaml"
SHARED = {"deployment": {"hotline": "10010", "service_centre": "西湖区"}}


def customer(ref: str = "C1", **fields: str | None) -> dict[str, str | None]:
    """An ordinary customer: a long-standing holder with a steady bill, nothing due."""
    row: dict[str, str | None] = {
        "customer_ref": ref, "name": "王", "title": "先生", "phone": "13800000001", "is_holder": "true",
        "last_month": "100.00", "this_month": "100.00", "idle_since_month": None,
        "suspended_since_month": None, "opened_on": "2020-01-01", "do_not_call": None, "agent_id": "A1"}
    row.update(fields)
    return row


def frame(rows: Iterable[Mapping[str, str | None]]) -> pl.DataFrame:
    """Customers as read_table gives them: text cells and each row's CSV line."""
    data = list(rows)
    table = pl.DataFrame({c: [r.get(c) for r in data] for c in COLUMNS},
                         schema=dict.fromkeys(COLUMNS, pl.String))
    return table.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))


def record(ref: str, flow: str, disposition: str, ended_at: str,
           follow_ups: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    return {"customer_ref": ref, "flow": flow, "disposition": disposition, "ended_at": ended_at,
            "follow_ups": [{"kind": k, "due": d} for k, d in follow_ups]}


def records_of(rows: Iterable[Mapping[str, Any]]) -> Any:
    data = list(rows)
    schema = {"customer_ref": pl.String, "flow": pl.String, "disposition": pl.String, "ended_at": pl.String,
              "follow_ups": pl.List(pl.Struct({"kind": pl.String, "due": pl.String}))}
    return records_from_frame(pl.DataFrame(data, schema=schema))


@cache
def telecom() -> Planner:
    return Planner(builtin_policy(), builtin_library(), SHARED)


def policy_variant(**replace: str) -> LoadedPolicy:
    """The telecom policy's text with lines replaced: {'per_day: 1': 'per_day: 2'}."""
    text = Path(POLICY_FILE).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return load_policy_text(text, "variant.yaml")


def agents_frame(rows: Iterable[tuple[str, str, str, int]]) -> pl.DataFrame:
    """Agents as read_agents gives them: agent_id, name, phone, max_calls, with lines."""
    data = list(rows)
    return pl.DataFrame({"agent_id": [r[0] for r in data], "name": [r[1] for r in data],
                         "phone": [r[2] for r in data], "max_calls": [r[3] for r in data]},
                        schema={"agent_id": pl.String, "name": pl.String, "phone": pl.String,
                                "max_calls": pl.Int64}).with_row_index(LINE, offset=2).with_columns(
        pl.col(LINE).cast(pl.Int64))


AGENTS = agents_frame([("A1", "李娜", "0571-86001234", 100_000), ("A2", "张伟", "0571-86001235", 100_000)])


def plan(rows: Iterable[Mapping[str, str | None]], on: date, records: Iterable[Mapping[str, Any]] = (),
         planner: Planner | None = None, agents: pl.DataFrame = AGENTS) -> PlanResult:
    return (planner or telecom()).plan(frame(rows), records_of(records), agents, on)


def rows_of(result: PlanResult) -> dict[str, dict[str, Any]]:
    """The worklist by customer_ref."""
    return {row["customer_ref"]: row for row in result.worklist.iter_rows(named=True)}


def not_held(prefix: str, count: int, seed: str = "telecom-retention", share: float = 0.1) -> list[str]:
    """Customer refs the built-in holdout does not take (so churn rules can be checked)."""
    refs = [f"{prefix}{i}" for i in range(count * 3)]
    draws = holdout_draw(pl.Series(refs), seed).to_list()
    return [r for r, d in zip(refs, draws, strict=True) if d >= share][:count]


def context_of(row: Mapping[str, Any]) -> dict[str, Any]:
    value = json.loads(row["context"])
    assert isinstance(value, dict)
    return value


def store_plan(svc: Any, day: date, rows: Iterable[tuple[str, Mapping[str, Any], str, int, str, str, int]],
               zone: str = "Asia/Shanghai") -> str:
    """A plan stored as `callscript plan --db` stores it, for tests of what serves it:
    rows of (agent_id, customer part, reason, priority, window start, window end, attempt),
    the windows as HH:MM in the zone (+08:00). Returns the plan id."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from callscript.planner.database import store_worklist

    data = list(rows)
    table = pl.DataFrame({
        "agent_id": [r[0] for r in data], "customer_ref": [r[1]["reference"] for r in data],
        "flow": ["first_visit"] * len(data), "reason": [r[2] for r in data],
        "priority": [r[3] for r in data], "window_start": [f"{day}T{r[4]}:00+08:00" for r in data],
        "window_end": [f"{day}T{r[5]}:00+08:00" for r in data], "attempt": [r[6] for r in data],
        "customer_context": [json.dumps({"customer": r[1]}, ensure_ascii=False) for r in data]})
    plan_id, written = store_worklist(svc.engine, svc.cipher, table, day, datetime.now(ZoneInfo(zone)),
                                      "telecom", zone, False)
    assert written == len(data)
    return plan_id
