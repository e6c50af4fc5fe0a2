"""What earlier calls say about today: attempts, retry delays, finished flows, due follow-ups.

All as Polars column operations over the look-back window's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from callscript.dispositions import Disposition
from callscript.planner.inputs import parse_instant
from callscript.planner.policy import ANY_FOLLOW_UP, Policy, Retry

_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True, slots=True)
class History:
    # per (customer_ref, flow): attempts, last_not_before, last_agreed, never_flow, done_at
    pairs: pl.DataFrame
    customers: pl.DataFrame  # per customer_ref: today, never_customer, blocked_until
    follow_ups: pl.DataFrame  # customer_ref, flow, ended_at, kind, due, agreed


def effective_retries(policy: Policy, dispositions: Mapping[str, Disposition]) -> dict[str, Retry]:
    """Per disposition id: the policy's entry, else what the library's disposition says.

    A final disposition of a reached customer finishes the flow (done); a final one
    without reaching them (a wrong number) is never retried; one that is not final is
    retried after its ``retry_after``, else when its follow-up is due.
    """
    retries: dict[str, Retry] = {}
    for disposition_id, disposition in dispositions.items():
        if disposition.final:
            retries[disposition_id] = Retry(done=True) if disposition.reached else Retry(never=True)
        elif disposition.retry_after is not None:
            retries[disposition_id] = Retry(after=disposition.retry_after.delta)
        else:
            retries[disposition_id] = Retry(at_follow_up=ANY_FOLLOW_UP)
    return {**retries, **policy.dispositions}


def retry_table(retries: Mapping[str, Retry]) -> pl.DataFrame:
    """The retries as a small frame to join records with."""
    rows = [{"disposition": name, "after": retry.after, "at_follow_up": retry.at_follow_up,
             "never": retry.never, "done": retry.done, "scope": retry.scope}
            for name, retry in retries.items()]
    schema: dict[str, pl.DataType] = {"disposition": pl.String(), "after": pl.Duration("us"),
                                      "at_follow_up": pl.String(), "never": pl.Boolean(),
                                      "done": pl.Boolean(), "scope": pl.String()}
    return pl.DataFrame(rows, schema=schema)


def _day_start(column: str, zone: str) -> pl.Expr:
    """A due day as the moment its local day starts, in UTC."""
    return (pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone(zone, ambiguous="earliest",
                                                                        non_existent="null")
            .dt.convert_time_zone("UTC"))


def empty_records() -> pl.DataFrame:
    follow_up = pl.Struct({"kind": pl.String, "due": pl.String})
    return pl.DataFrame(schema={"customer_ref": pl.String, "flow": pl.String, "disposition": pl.String,
                                "ended_at": _UTC, "follow_ups": pl.List(follow_up)})


def summarise(records: pl.DataFrame, policy: Policy, retries: Mapping[str, Retry],
              day_start: datetime) -> History:
    """Attempts and gates from ``records`` (already limited to the look-back window and the day)."""
    zone = policy.timezone
    recs = (records.lazy().with_row_index("rec").join(retry_table(retries).lazy(), on="disposition",
                                                         how="left")
            .with_columns(pl.col("never", "done").fill_null(False), pl.col("scope").fill_null("flow")))
    exploded = (recs.select("rec", "customer_ref", "flow", "ended_at", "at_follow_up", "follow_ups")
                .explode("follow_ups").filter(pl.col("follow_ups").is_not_null())
                .unnest("follow_ups")
                .with_columns(
                    pl.when(pl.col("due").str.contains("T"))
                    .then(parse_instant(pl.col("due"))).alias("due_at"),
                    pl.when(~pl.col("due").str.contains("T"))
                    .then(pl.col("due").str.to_date("%Y-%m-%d", strict=False)).alias("due_day"))
                .with_columns(pl.coalesce(pl.col("due_at"), _day_start("due_day", zone)).alias("due"))
                .filter(pl.col("due").is_not_null()))
    wanted = (pl.col("kind") == pl.col("at_follow_up")) | (pl.col("at_follow_up") == ANY_FOLLOW_UP)
    agreed = (exploded.filter(wanted).group_by("rec")
              .agg(pl.col("due_at").min().alias("agreed"), pl.col("due").min().alias("agreed_due")))
    gated = recs.join(agreed, on="rec", how="left").with_columns(
        pl.when(pl.col("done")).then(None)
        .when(pl.col("agreed_due").is_not_null()).then(pl.col("agreed_due"))
        .when(pl.col("after").is_not_null()).then(pl.col("ended_at") + pl.col("after"))
        .otherwise(pl.col("ended_at")).alias("not_before"))
    flow_scope = pl.col("scope") == "flow"
    pairs = gated.sort("ended_at").group_by("customer_ref", "flow").agg(
        pl.len().cast(pl.Int64).alias("attempts"),
        pl.col("not_before").filter(flow_scope).last().alias("last_not_before"),
        pl.col("agreed").filter(flow_scope).last().alias("last_agreed"),
        (pl.col("never") & flow_scope).any().alias("never_flow"),
        pl.col("ended_at").filter(pl.col("done")).max().alias("done_at"),
    )
    customer_scope = pl.col("scope") == "customer"
    customers = gated.group_by("customer_ref").agg(
        (pl.col("ended_at") >= day_start).sum().cast(pl.Int64).alias("today"),
        (pl.col("never") & customer_scope).any().alias("never_customer"),
        pl.col("not_before").filter(customer_scope & ~pl.col("never")).max().alias("blocked_until"),
    )
    follow_ups = exploded.select("customer_ref", "flow", "ended_at", "kind", "due",
                                 pl.col("due_at").alias("agreed"))
    collected = pl.collect_all([pairs, customers, follow_ups])
    return History(collected[0], collected[1], collected[2])
