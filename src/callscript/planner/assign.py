"""Who is held out, and which agent calls whom."""

from __future__ import annotations

import hashlib

import polars as pl


def holdout_draw(refs: pl.Series, seed: str) -> pl.Series:
    """A number in [0, 1) per customer, the same in every run and Polars version.

    Polars' own hash may change between versions, which would move customers in
    and out of the holdout and spoil the retention measurement, so this uses
    BLAKE2b. It runs in Python, but only over the candidates of holdout rules.
    """
    prefix = seed.encode() + b"\x00"
    scale = float(1 << 64)
    draws = [int.from_bytes(hashlib.blake2b(prefix + ref.encode(), digest_size=8).digest(), "big") / scale
             for ref in refs.to_list()]
    return pl.Series("draw", draws, dtype=pl.Float64)


def assign_agents(rows: pl.DataFrame, agents: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """(rows with agent_id, agent_name, agent_phone; rows over every agent's capacity).

    ``rows`` are in priority order with the customer's own manager in ``own``.
    The own manager takes their customers up to ``max_calls``; the rest are dealt
    round-robin to the agents with capacity left, highest priority first.
    """
    ranked = rows.with_row_index("order").join(
        agents.select(pl.col("agent_id").alias("own"), pl.col("max_calls").alias("own_cap")),
        on="own", how="left")
    ranked = ranked.sort("order").with_columns(pl.int_range(pl.len()).over("own").alias("own_rank"))
    keeps_own = pl.col("own_cap").is_not_null() & (pl.col("own_rank") < pl.col("own_cap"))
    own = ranked.filter(keeps_own).with_columns(pl.col("own").alias("agent_id"))
    rest = ranked.filter(~keeps_own).sort("order")
    used = own.group_by("agent_id").agg(pl.len().cast(pl.Int64).alias("used"))
    slots = (agents.join(used, on="agent_id", how="left")
             .with_columns((pl.col("max_calls") - pl.col("used").fill_null(0)).clip(lower_bound=0)
                           .alias("left"))
             .filter(pl.col("left") > 0)
             .with_columns(pl.int_ranges(0, pl.col("left")).alias("slot"))
             .explode("slot").sort("slot", "agent_id").select("agent_id").head(rest.height))
    dealt = rest.head(slots.height).with_columns(slots.get_column("agent_id"))
    over = rest.height - dealt.height
    assigned = pl.concat([own, dealt], how="diagonal_relaxed").sort("order")
    names = agents.select("agent_id", pl.col("name").alias("agent_name"),
                          pl.col("phone").alias("agent_phone"))
    return assigned.join(names, on="agent_id", how="left").drop("order", "own_cap", "own_rank"), over
