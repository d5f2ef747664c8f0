"""Routing-skill exports: each agent's queues on the proficiency scale of a contact-centre
platform, with primary/secondary priority, so the fit the roster used reaches live routing.

What is exported is the fit (0-1, the weighted total of docs/contracts.md) of every
eligible agent x queue pair, mapped onto the platform's scale:

| platform | scale | mapping of fit f |
|---|---|---|
| Genesys Cloud (`genesys`) | 0-5, 5 best | round(5 f) |
| Amazon Connect (`connect`) | 1-5, 5 best | 1 + round(4 f) |
| NICE CXone (`cxone`) | 1-20, 1 best | 20 - round(19 f) |

Rounding is half away from zero. **Priority**: `primary` for the queue the agent worked
most intervals on in the roster (ties: higher fit, then queue id), `secondary` for every
other eligible queue; an agent without roster intervals gets `primary` on their best-fit
queue. `priority_rank` orders an agent's queues (1 = primary, then by fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem
from staffing.io import write_table
from staffing.reports.run import RunFolder


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    low: int
    high: int
    best_is_low: bool
    columns: tuple[str, ...]  # output column names for agent, skill, level

    def level(self, fit: pl.Expr) -> pl.Expr:
        """The platform level for a fit in 0-1 (Int64)."""
        f = fit.clip(0.0, 1.0)
        span = self.high - self.low
        steps = (f * span + 0.5).floor().cast(pl.Int64)  # half away from zero for f >= 0
        return (pl.lit(self.high) - steps) if self.best_is_low else (pl.lit(self.low) + steps)


PLATFORMS: dict[str, Platform] = {
    "genesys": Platform("genesys", "Genesys Cloud", 0, 5, False, ("user", "skill", "proficiency")),
    "connect": Platform("connect", "Amazon Connect", 1, 5, False, ("agent", "attribute_value", "level")),
    "cxone": Platform("cxone", "NICE CXone", 1, 20, True, ("agent_id", "skill_name", "proficiency")),
}


def platform(key: str) -> Platform:
    try:
        return PLATFORMS[key]
    except KeyError:
        raise InputError([Problem("--format", f"unknown platform {key!r}; expected one of {', '.join(PLATFORMS)}")], headline="invalid export") from None


def skill_priorities(fit: pl.DataFrame, activities: pl.DataFrame | None) -> pl.DataFrame:
    """agent_id, queue_id, fit, intervals (worked in the roster), priority, priority_rank:
    every eligible pair, sorted by agent and rank."""
    pairs = fit.filter(pl.col("eligible")).select("agent_id", "queue_id", "fit")
    if activities is not None and activities.height:
        worked = activities.group_by("agent_id", pl.col("activity").alias("queue_id")).agg(pl.len().cast(pl.Int64).alias("intervals"))
        pairs = pairs.join(worked, on=["agent_id", "queue_id"], how="left")
    else:
        pairs = pairs.with_columns(pl.lit(None, dtype=pl.Int64).alias("intervals"))
    pairs = pairs.with_columns(pl.col("intervals").fill_null(0))
    ranked = pairs.sort(["agent_id", "intervals", "fit", "queue_id"], descending=[False, True, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1).over("agent_id").alias("priority_rank")
    )
    # the rank among the rest follows fit
    primary = ranked.filter(pl.col("priority_rank") == 1)
    rest = ranked.filter(pl.col("priority_rank") > 1).sort(["agent_id", "fit", "queue_id"], descending=[False, True, False]).with_columns(
        (pl.int_range(2, pl.len() + 2).over("agent_id")).alias("priority_rank")
    )
    return (
        pl.concat([primary, rest])
        .with_columns(pl.when(pl.col("priority_rank") == 1).then(pl.lit("primary")).otherwise(pl.lit("secondary")).alias("priority"))
        .sort("agent_id", "priority_rank")
        .select("agent_id", "queue_id", "fit", "intervals", "priority", pl.col("priority_rank").cast(pl.Int64))
    )


def routing_table(fit: pl.DataFrame, activities: pl.DataFrame | None, key: str) -> pl.DataFrame:
    """The export table for one platform: its column names, the level on its scale, priority,
    the fit it came from and the platform's scale."""
    p = platform(key)
    agent_col, skill_col, level_col = p.columns
    pr = skill_priorities(fit, activities)
    return pr.select(
        pl.col("agent_id").alias(agent_col),
        pl.col("queue_id").alias(skill_col),
        p.level(pl.col("fit")).alias(level_col),
        "priority",
        "priority_rank",
        pl.col("fit").round(4).alias("fit"),
        pl.lit(f"{p.low}-{p.high} ({'1 best' if p.best_is_low else f'{p.high} best'})").alias("scale"),
    )


def write_routing(run: RunFolder, key: str, out_dir: str | Path) -> list[Path]:
    """Write `routing_<platform>.csv` and `.parquet` into out_dir."""
    if run.fit is None:
        raise InputError([Problem("fit.parquet", f"file not found in {run.root}; the routing export needs the fit table")], headline="invalid run folder")
    table = routing_table(run.fit, run.activities, key)
    out = Path(out_dir)
    return [write_table(table, out / f"routing_{key}.csv"), write_table(table, out / f"routing_{key}.parquet")]
