"""Routing profiles: the queues an agent is logged into in an interval, in priority order."""

from __future__ import annotations

import polars as pl

#: Joins the queue ids of a profile in the activities table's `profile` column.
PROFILE_SEPARATOR = "|"


def routing_profiles(activities: pl.DataFrame, fit: pl.DataFrame, pools: pl.DataFrame, requirements: pl.DataFrame) -> pl.DataFrame:
    """The activities table with a `profile` column (Utf8; null on break and lunch rows).

    An agent working queue q in an interval is logged into q first, then into every other
    queue of q's pool that is open in that interval (requirements ``method`` not
    ``closed``) and that the agent is skilled for (``fit.eligible``), by the agent's
    proficiency on it (the fit table's ``proficiency`` component, or ``fit`` when the
    table has none), then fit, then queue id. A queue alone in its pool gives a one-queue
    profile: today's single-queue activity. Row order and every other column are kept.
    """
    rank_col = "proficiency" if "proficiency" in fit.columns else "fit"
    skills = (
        fit.filter(pl.col("eligible"))
        .select("agent_id", "queue_id", pl.col(rank_col).cast(pl.Float64).alias("__rank"), pl.col("fit").cast(pl.Float64).alias("__fit"))
        .join(pools, on="queue_id", how="inner")
    )
    open_q = requirements.filter(pl.col("method") != "closed").select("queue_id", pl.col("interval_start").cast(pl.Datetime("us")))
    acts = activities.with_row_index("__row")
    work = acts.join(pools.rename({"queue_id": "activity"}), on="activity", how="inner")
    others = (
        work.select("__row", "agent_id", "interval_start", "activity", "pool")
        .join(skills, on=["agent_id", "pool"], how="inner")
        .filter(pl.col("queue_id") != pl.col("activity"))
        .join(open_q, on=["queue_id", "interval_start"], how="semi")
        .sort(["__row", "__rank", "__fit", "queue_id"], descending=[False, True, True, False])
        .group_by("__row", maintain_order=True)
        .agg(pl.col("queue_id").alias("__others"))
    )
    is_queue = pl.col("channel").is_not_null()
    out = acts.join(others, on="__row", how="left").sort("__row")
    out = out.with_columns(
        pl.when(is_queue)
        .then(pl.concat_list(pl.col("activity"), pl.col("__others").fill_null(pl.lit([], dtype=pl.List(pl.Utf8)))).list.join(PROFILE_SEPARATOR))
        .otherwise(None)
        .alias("profile")
    )
    return out.drop("__row", "__others")
