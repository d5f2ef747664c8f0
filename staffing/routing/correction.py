"""Simulation correction of pooled requirements (docs/multiskill.md, "Correction").

Pooled requirements come from an approximation (a pool of agents serving its queues
first-come-first-served); the routing simulation of the roster says what service it
really gives. Where a queue-interval misses its target by more than the simulation's
confidence half-width, that queue needs one more primary agent there (and its pool one
more head); the roster is then solved again. Bounded rounds keep the cost known.
"""

from __future__ import annotations

import polars as pl


def missed_targets(service: pl.DataFrame) -> pl.DataFrame:
    """Queue-intervals of a `service` table (staffing simulate) that the simulation scores
    (`target_met` not null: open, with forecast volume and a target) and whose simulated
    service level plus its 95% half-width is below the target: queue_id, interval_start,
    service_level, service_level_hw, target, sorted by queue and interval."""
    hw = pl.col("service_level_hw").fill_null(0.0)
    scored = pl.col("target_met").is_not_null() if "target_met" in service.columns else pl.col("target").is_not_null()
    return (
        service.filter(scored & pl.col("service_level").is_not_null() & (pl.col("offered") > 0))
        .filter(pl.col("service_level") + hw < pl.col("target"))
        .select("queue_id", "interval_start", "service_level", "service_level_hw", "target")
        .sort("queue_id", "interval_start")
    )


def raise_requirements(requirements: pl.DataFrame, missed: pl.DataFrame) -> pl.DataFrame:
    """The requirements table with one more head on every missed queue-interval (its
    `required_agents`, and its pool's `pool_agents` on every row of the pool in that
    interval, once per missed queue of the pool); `simulation_added` (Int64, added when
    absent) counts the heads the correction added, so the queueing model's own figure stays
    readable (`required_agents - simulation_added`). Rows are kept."""
    out = requirements if "simulation_added" in requirements.columns else requirements.with_columns(pl.lit(0, dtype=pl.Int64).alias("simulation_added"))
    if missed.height == 0:
        return out
    columns = out.columns
    key = ["queue_id", "interval_start"]
    hit = missed.select(*key).unique().with_columns(pl.lit(1, dtype=pl.Int64).alias("__up"))
    out = out.join(hit, on=key, how="left").with_columns(pl.col("__up").fill_null(0))
    out = out.with_columns(
        (pl.col("required_agents") + pl.col("__up")).alias("required_agents"),
        (pl.col("simulation_added") + pl.col("__up")).alias("simulation_added"),
    )
    if "pool_agents" in out.columns and "pool" in out.columns:
        out = out.with_columns((pl.col("pool_agents") + pl.col("__up").sum().over("pool", "interval_start")).alias("pool_agents"))
    return out.drop("__up").select(columns)
