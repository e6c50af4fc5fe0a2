"""Customers + earlier calls + policy -> today's worklist, as column operations.

``Planner(policy, flows)`` checks the policy against the flows once (every rule
and every flow's ``applies_when`` must compile to a Polars expression);
``planner.plan(customers, records, agents, on)`` plans one day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from callscript.compile import Flow
from callscript.errors import Problem
from callscript.library import FlowLibrary
from callscript.loader import SourceMap
from callscript.planner.assign import assign_agents, holdout_draw
from callscript.planner.context import (
    Column,
    Field,
    agent_columns,
    check_columns,
    constant_parts,
    context_fields,
    context_json,
    split_checked,
    validate,
)
from callscript.planner.expr import Names, Untranslatable, compile_expression
from callscript.planner.history import History, effective_retries, empty_records, summarise
from callscript.planner.inputs import (
    LINE,
    InputError,
    RecordSource,
    check_records,
    refuse_duplicates,
    require_columns,
)
from callscript.planner.policy import LoadedPolicy, check_policy
from callscript.planner.windows import DayWindows, day_windows

OUTPUT_COLUMNS = ("customer_ref", "flow", "reason", "priority", "window_start", "window_end", "attempt",
                  "agent_id", "context", "calendar_estimated")
_ISO = "%Y-%m-%dT%H:%M:%S%:z"


@dataclass
class PlanResult:
    """The worklist of one day, the rejected rows, and counts that explain it."""

    day: date
    worklist: pl.DataFrame
    rejects: pl.DataFrame
    why: str = ""  # why the worklist is empty, when the day has no calling window
    calendar_estimated: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _planner_field(kind: str | None) -> Field:
    """A column only the planner reads (opened_on, do_not_call): a type, no constraints."""
    from callscript.context import FieldSpec, expected

    spec = FieldSpec.model_validate({"type": kind or "text", "label": kind or "text"})
    return Field(spec.type, expected=expected(spec))


def _left(windows: DayWindows, now: datetime | None, zone: str) -> DayWindows:
    """The day's windows, none when planning the rest of a day after its last one (and why)."""
    if now is None or not windows.windows or windows.windows[-1][1] > now:
        return windows
    last = windows.windows[-1][1].astimezone(now.tzinfo).strftime("%H:%M")
    return DayWindows(windows.day, (), f"the day's last calling window ended at {last} "
                                       f"({zone}): no window left today; plan another day with --on")


def _noop(stage: str) -> None:
    """No progress display."""


class Planner:
    """A policy checked against a library's flows, context schema and dispositions.

    ``shared`` holds the context parts every call shares (``{"deployment": {...}}``).
    """

    def __init__(self, loaded: LoadedPolicy, library: FlowLibrary,
                 shared: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.loaded, self.policy, self.library = loaded, loaded.policy, library
        self.flows: dict[str, Flow] = library.compile_all()
        self.schema = library.schema
        self.shared = shared
        self.fields = fields = context_fields(self.schema)
        check_policy(loaded, self.flows, library.dispositions, fields, self._expression_problems)
        self.retries = effective_retries(self.policy, library.dispositions)
        self.columns = [
            Column(name, spec.to or f"row.{name}", fields[spec.to] if spec.to else _planner_field(spec.type),
                   spec.required or name == self.policy.customers.key)
            for name, spec in self.policy.customers.columns.items()]
        self.key_path = self._path_of(self.policy.customers.key)

    def _path_of(self, column: str) -> str:
        return next(c.path for c in self.columns if c.name == column)

    def _names(self, today: date) -> Names:
        fields = self.fields
        columns = {spec.to or f"row.{name}": (fields[spec.to].type if spec.to else spec.type or "text")
                   for name, spec in self.policy.customers.columns.items()
                   if spec.to is None or spec.to in fields}  # unknown fields: check_policy says so
        return Names(columns, self.policy.params, today, self._shared_values())

    def _shared_values(self) -> dict[str, Any]:
        """Fields of shared (implicit) parts: the deployment file's value, else the default."""
        out: dict[str, Any] = {}
        for path in self.schema.implicit:
            part, name = path.split(".", 1)
            given = (self.shared or {}).get(part, {})
            out[path] = given[name] if name in given else self.schema.fields[path].default
        return out

    def _expression_problems(self, source: SourceMap) -> list[Problem]:
        names = self._names(date(2000, 1, 1))
        problems: list[Problem] = []

        def attempt(loc: tuple[str | int, ...], text: str, prefix: str = "") -> None:
            try:
                compile_expression(text, names)
            except Untranslatable as err:
                problems.append(source.problem(loc, f"{prefix}{err}"))

        if self.policy.do_not_call:
            attempt(("do_not_call",), self.policy.do_not_call)
        used = set()
        for i, rule in enumerate(self.policy.rules):
            if rule.when:
                attempt(("rules", i, "when"), rule.when)
            used |= {rule.flow} if rule.flow else set(self.flows)
            if rule.flow in self.flows:
                flow = self.flows[rule.flow]
                missing = sorted(p for p in flow.required_context if p not in names.columns
                                 and p not in self.schema.implicit)  # shared parts: not columns
                if missing:
                    problems.append(source.problem(("rules", i, "flow"), f"flow {rule.flow!r} needs "
                                                   f"{', '.join(missing)}, which no column fills"))
                if flow.applies_when is not None:
                    attempt(("rules", i, "flow"), flow.applies_when.source,
                            f"flow {rule.flow!r} applies_when cannot be planned: ")
        return problems

    # -- expressions over the customers frame ---------------------------------

    def _applies(self, flow_id: str, names: Names) -> pl.Expr:
        """The flow can start: required fields present and its applies_when true."""
        flow = self.flows.get(flow_id)
        if flow is None:
            return pl.lit(False)
        required = sorted(p for p in flow.required_context if p not in self.schema.implicit)
        if any(p not in names.columns for p in required):
            return pl.lit(False)  # no column fills it: the call could not start
        present = [pl.col(p).is_not_null() for p in required]
        guard = compile_expression(flow.applies_when.source, names) if flow.applies_when else pl.lit(True)
        return pl.all_horizontal(*present, guard) if present else guard

    def _applies_by_flow(self, flows: set[str], names: Names) -> pl.Expr:
        chain: pl.Expr = pl.lit(False)
        for flow_id in sorted(flows):
            chain = pl.when(pl.col("flow") == flow_id).then(self._applies(flow_id, names)).otherwise(chain)
        return chain

    # -- the day's plan ---------------------------------------------------------

    def plan(self, customers: pl.DataFrame, records: RecordSource | None, agents: pl.DataFrame | None,
             on: date, progress: Callable[[str], None] = _noop, name: str = "customers",
             agents_name: str = "agents", records_name: str = "records",
             now: datetime | None = None, customer_contexts: bool = False) -> PlanResult:
        """Plan ``on``: ``customers`` as text columns with their file lines (see inputs.read_table).

        ``now`` (aware): no window starts before it, when planning the rest of today. The
        names say which file an error is about (a missing column, duplicate keys, …).
        ``customer_contexts``: the worklist gets a ``customer_context`` column too, the
        context without the parts the service fills (agent, deployment): the body of a
        service's ``POST /v1/calls``.
        """
        policy = self.policy
        require_columns(customers, list(policy.customers.columns), name, "customer")
        refuse_duplicates(customers, policy.customers.key, name)
        constants = self._constants(agents is not None)
        if agents is not None:
            agents = self._checked_agents(agents, agents_name)
        windows = _left(day_windows(policy, on), now, policy.timezone)
        zone = policy.zone
        day_start = datetime.combine(on, time(), tzinfo=zone).astimezone(UTC)
        day_end = datetime.combine(on + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        progress("checking customers, reading earlier calls")
        # one collect_all: the customer checks and the records' parsing share both cores
        queries = [check_columns(customers, self.columns, LINE)]
        if records is not None and windows.windows:
            queries.append(records(day_start - policy.look_back))
        done = pl.collect_all(queries)
        good, rejects = split_checked(done[0], self.columns, LINE)
        counts = {"customers": customers.height, "rejected_rows": rejects.get_column("line").n_unique()}
        if not windows.windows:
            return PlanResult(on, self._empty(customer_contexts), rejects, windows.why,
                              windows.estimated, counts)
        names = self._names(on)
        found = empty_records()
        if len(done) > 1:
            check_records(done[1], records_name)
            found = done[1].filter(pl.col("ended_at") < day_end)
        counts["records"] = found.height
        history = summarise(found, policy, self.retries, day_start)
        progress("applying rules")
        key = self.key_path
        dnc = compile_expression(policy.do_not_call, names) if policy.do_not_call else pl.lit(False)
        callable_customers = good.filter(~dnc)
        counts["do_not_call"] = good.height - callable_customers.height
        candidates = self._candidates(callable_customers, history, names, day_end)
        candidates = self._holdout(candidates, counts)
        progress("applying attempts and windows")
        planned = self._gate(candidates, history, windows, now, counts)
        planned = planned.sort(["priority", "rule", key], descending=[True, False, False])
        planned = planned.unique(subset=key, keep="first", maintain_order=True)
        progress("assigning agents")
        agent_col = policy.customers.agent
        own = pl.col(self._path_of(agent_col)) if agent_col else pl.lit(None, pl.String)
        planned = planned.join(callable_customers.select(pl.col(key), own.alias("own")), on=key, how="left")
        agent_fields = {"id": "agent_id"}
        if agents is not None:
            planned, counts["over_capacity"] = assign_agents(planned, agents)
            agent_fields |= {"name": "agent_name", "phone": "agent_phone"}
        else:
            planned = planned.with_columns(pl.col("own").alias("agent_id"))
        progress("writing contexts")
        worklist = self._finish(planned, callable_customers, agent_fields, constants, windows,
                                customer_contexts)
        for rule in policy.rules:
            counts[f"rule:{rule.id}"] = 0
        for rule_id, n in worklist.group_by("rule_id").len().iter_rows():
            counts[f"rule:{rule_id}"] = n
        counts["planned"] = worklist.height
        return PlanResult(on, worklist.drop("rule_id"), rejects, "", windows.estimated, counts)

    def _constants(self, agents_given: bool) -> dict[str, dict[str, Any]]:
        used = {r.flow for r in self.policy.rules if r.flow} | (
            set(self.flows) if any(r.repeat_flow for r in self.policy.rules) else set())
        try:
            return constant_parts(self.schema, [self.flows[f] for f in sorted(used) if f in self.flows],
                                  self.shared, agents_given)
        except ValueError as err:
            raise InputError(str(err)) from None

    def _checked_agents(self, agents: pl.DataFrame, name: str) -> pl.DataFrame:
        good, rejects = validate(agents, agent_columns(self.schema), LINE)
        if rejects.height:
            line, column, problem = rejects.row(0)
            raise InputError(f"{name}:{line}: {column}: {problem}")
        texts = agents.select(LINE, "agent_id", "max_calls")
        return texts.join(good.rename({c.path: c.name for c in agent_columns(self.schema)}), on=LINE)

    def _candidates(self, customers: pl.DataFrame, history: History, names: Names,
                    day_end: datetime) -> pl.DataFrame:
        """(customer, rule, flow, priority, due, agreed, source_ended) for every rule that fires."""
        key = self.key_path
        parts: list[pl.LazyFrame] = []
        follow_ups = history.follow_ups.lazy().filter(pl.col("due") < day_end)
        for i, rule in enumerate(self.policy.rules):
            when = compile_expression(rule.when, names) if rule.when else pl.lit(True)
            meta = [pl.lit(i).alias("rule"), pl.lit(rule.priority).alias("priority")]
            if rule.follow_ups is None:
                assert rule.flow is not None
                fired = customers.lazy().filter(when & self._applies(rule.flow, names)).select(
                    pl.col(key), pl.lit(rule.flow).alias("flow"), *meta,
                    pl.lit(None, pl.Datetime("us", "UTC")).alias("due"),
                    pl.lit(None, pl.Datetime("us", "UTC")).alias("agreed"),
                    pl.lit(None, pl.Datetime("us", "UTC")).alias("source_ended"))
            else:
                flow = pl.lit(rule.flow) if rule.flow else pl.col("flow")
                due = (follow_ups.filter(pl.col("kind").is_in(rule.follow_ups))
                       .select(pl.col("customer_ref").alias(key), flow.alias("flow"), "due", "agreed",
                               pl.col("ended_at").alias("source_ended"))
                       .sort("due").group_by(key, "flow").first())
                flows = {rule.flow} if rule.flow else set(self.flows)
                fired = (due.join(customers.lazy(), on=key, how="inner")
                         .filter(when & self._applies_by_flow(flows, names))
                         .select(key, "flow", *meta, "due", "agreed", "source_ended"))
            parts.append(fired)
        return pl.concat(parts).collect()

    def _holdout(self, candidates: pl.DataFrame, counts: dict[str, int]) -> pl.DataFrame:
        """Drop the held-out customers of each holdout rule (one draw per customer and seed)."""
        key = self.key_path
        shares = {i: r.holdout for i, r in enumerate(self.policy.rules) if r.holdout and r.holdout.share}
        if not shares:
            return candidates
        held_parts = []
        for seed in sorted({h.seed for h in shares.values()}):
            rules = [i for i, h in shares.items() if h.seed == seed]
            refs = candidates.filter(pl.col("rule").is_in(rules)).get_column(key).unique()
            draws = pl.DataFrame({key: refs, "draw": holdout_draw(refs, seed)})
            share = pl.lit(None, pl.Float64)
            for i in rules:
                share = pl.when(pl.col("rule") == i).then(pl.lit(shares[i].share)).otherwise(share)
            held_parts.append(candidates.filter(pl.col("rule").is_in(rules)).join(draws, on=key)
                              .filter(pl.col("draw") < share).select(key, "rule"))
        held = pl.concat(held_parts)
        for i, rule in enumerate(self.policy.rules):
            if i in shares:
                counts[f"held_out:{rule.id}"] = held.filter(pl.col("rule") == i).height
        return candidates.join(held, on=[key, "rule"], how="anti")

    def _gate(self, candidates: pl.DataFrame, history: History, windows: DayWindows,
              now: datetime | None, counts: dict[str, int]) -> pl.DataFrame:
        """Attempt limits, retry delays, finished flows; then the window each row gets today.

        Counts the customers none of whose rules plans a call: ``waiting`` (a retry delay or
        an agreed time after the day's last window, or the day's attempts made) before
        ``attempts_used_up`` (the flow's attempts within look_back made)."""
        policy, key = self.policy, self.key_path
        pairs = history.pairs.rename({"customer_ref": key})
        per_customer = history.customers.rename({"customer_ref": key})
        rows = (candidates.lazy().join(pairs.lazy(), on=[key, "flow"], how="left")
                .join(per_customer.lazy(), on=key, how="left")
                .with_columns(pl.col("attempts", "today").fill_null(0),
                              pl.col("never_flow", "never_customer").fill_null(False)))
        finished = pl.when(pl.col("source_ended").is_null()).then(pl.col("done_at").is_not_null()) \
            .otherwise((pl.col("done_at") > pl.col("source_ended")).fill_null(False))
        open_ = ~pl.col("never_flow") & ~pl.col("never_customer") & ~finished
        rows = rows.filter(open_).with_columns(
            (pl.col("attempts") >= policy.attempts.total).alias("_used_up"),
            (pl.col("today") >= policy.attempts.per_day).alias("_today_done"))
        not_before = pl.max_horizontal("due", "last_not_before", "blocked_until",
                                       pl.lit(now.astimezone(UTC) if now else None, pl.Datetime("us", "UTC")))
        agreed = pl.coalesce("agreed", "last_agreed")
        rows = rows.with_columns(not_before.alias("not_before"), agreed.alias("agreed"))
        start: pl.Expr = pl.lit(None, pl.Datetime("us", "UTC"))
        end: pl.Expr = pl.lit(None, pl.Datetime("us", "UTC"))
        nb = pl.col("not_before")
        for first, last in reversed(windows.windows):
            fits = nb.is_null() | (nb < last)
            start = pl.when(fits).then(pl.max_horizontal(pl.lit(first), nb)).otherwise(start)
            end = pl.when(fits).then(pl.lit(last)).otherwise(end)
        rows = rows.with_columns(start.alias("window_start"), end.alias("window_end"))
        at_time = pl.col("agreed").is_not_null() & (pl.col("window_start") == pl.col("agreed"))
        rows = rows.with_columns(
            pl.when(at_time).then(pl.min_horizontal("window_end", pl.col("agreed") + policy.appointment))
            .otherwise(pl.col("window_end")).alias("window_end"))
        gated = rows.collect()
        fits = ~pl.col("_used_up") & ~pl.col("_today_done")
        planned = fits & pl.col("window_start").is_not_null()
        waits = (fits & pl.col("window_start").is_null()) | (~pl.col("_used_up") & pl.col("_today_done"))
        per = gated.group_by(key).agg(planned.any().alias("p"), waits.any().alias("w"),
                                      pl.col("_used_up").any().alias("u"))
        counts["waiting"] = per.filter(~pl.col("p") & pl.col("w")).height
        counts["attempts_used_up"] = per.filter(~pl.col("p") & ~pl.col("w") & pl.col("u")).height
        return gated.filter(planned).drop("_used_up", "_today_done")

    def _finish(self, planned: pl.DataFrame, customers: pl.DataFrame, agent_fields: dict[str, str],
                constants: Mapping[str, Mapping[str, Any]], windows: DayWindows,
                customer_contexts: bool) -> pl.DataFrame:
        key, zone = self.key_path, self.policy.timezone
        reasons = pl.DataFrame({"rule": list(range(len(self.policy.rules))),
                                "reason": [r.reason for r in self.policy.rules],
                                "rule_id": [r.id for r in self.policy.rules]},
                               schema={"rule": pl.Int32, "reason": pl.String, "rule_id": pl.String})
        context_cols = [c for c in self.columns if c.in_context]
        needed = {c.path for c in context_cols} | {f"{c.path}#text" for c in context_cols
                                                  if c.field.type in ("money", "decimal")}
        rows = (planned.with_columns(pl.col("rule").cast(pl.Int32)).join(reasons, on="rule", how="left")
                .join(customers.select(*(pl.col(n) for n in sorted(needed) if n != key), pl.col(key)),
                      on=key, how="left"))
        iso = [pl.col(c).dt.convert_time_zone(zone).dt.to_string(_ISO).alias(c)
               for c in ("window_start", "window_end")]
        out = rows.sort("agent_id", "window_start", "priority", key, descending=[False, False, True, False],
                        nulls_last=True).select(
            pl.col(key).alias("customer_ref"), "flow", "reason", pl.col("priority").cast(pl.Int64),
            *iso, (pl.col("attempts") + 1).cast(pl.Int64).alias("attempt"),
            pl.col("agent_id").cast(pl.String),
            context_json(self.columns, agent_fields, constants).alias("context"),
            pl.lit(windows.estimated).alias("calendar_estimated"), "rule_id",
            *([context_json(self.columns, {}, {}).alias("customer_context")]
              if customer_contexts else []))
        return out

    def _empty(self, customer_contexts: bool = False) -> pl.DataFrame:
        names = (*OUTPUT_COLUMNS, "customer_context") if customer_contexts else OUTPUT_COLUMNS
        schema: dict[str, pl.DataType] = {c: pl.String() for c in names}
        schema |= {"priority": pl.Int64(), "attempt": pl.Int64(), "calendar_estimated": pl.Boolean()}
        return pl.DataFrame(schema=schema)
