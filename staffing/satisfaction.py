"""Per-agent preference satisfaction: the one definition, from the roster's tables.

The roster summary (`staffing.roster.solve`: `preference_satisfaction_min` / `_mean` of
summary.json) and the roster report (`staffing.reports`, one value per agent for the
distribution) both call `preference_satisfaction`; it lives outside both packages so
that neither imports the other (and the validator may use it without the roster model).
The share of an agent's preference items honoured:

- one item per preferred day off: 1 if the agent does not work that weekday, else 0;
- with a preferred start window, one item per worked shift: 1 if it starts inside it;
- with an avoided (or never) channel among its eligible queues and some worked intervals:
  the share of worked intervals (activity rows on a queue) not on such a channel.

An agent with no preference items scores 1.
"""

from __future__ import annotations

import polars as pl


def _minute(hhmm: pl.Expr) -> pl.Expr:
    parts = hhmm.str.split(":")
    return parts.list.get(0).cast(pl.Int64) * 60 + parts.list.get(1).cast(pl.Int64)


def preference_satisfaction(
    shifts: pl.DataFrame,
    activities: pl.DataFrame,
    agents: pl.DataFrame,
    days_off_pref: pl.DataFrame,
    channel_prefs: pl.DataFrame,
    fit: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """agent_id, items, satisfaction: one row per agent of `agents`, sorted by agent_id.
    With `fit`, only avoided channels of queues the agent is eligible for count (as in the roster)."""
    ids = agents.select(pl.col("agent_id").cast(pl.Utf8)).unique().sort("agent_id")
    worked_days = shifts.select("agent_id", pl.col("date").dt.weekday().sub(1).cast(pl.Int8).alias("weekday")).unique()
    days = days_off_pref.select("agent_id", pl.col("weekday").cast(pl.Int8)).join(
        worked_days.with_columns(pl.lit(True).alias("worked")), on=["agent_id", "weekday"], how="left"
    ).select("agent_id", pl.when(pl.col("worked").fill_null(False)).then(0.0).otherwise(1.0).alias("score"))

    window = agents.select("agent_id", "pref_start_earliest", "pref_start_latest").drop_nulls()
    window = window.filter((pl.col("pref_start_earliest") != "") & (pl.col("pref_start_latest") != ""))
    starts = shifts.select("agent_id", "start").join(window, on="agent_id").select(
        "agent_id",
        pl.when(
            (pl.col("start").dt.hour().cast(pl.Int64) * 60 + pl.col("start").dt.minute().cast(pl.Int64)).is_between(
                _minute(pl.col("pref_start_earliest")), _minute(pl.col("pref_start_latest"))
            )
        ).then(1.0).otherwise(0.0).alias("score"),
    )

    avoided = channel_prefs.filter(pl.col("preference").is_in(["avoid", "never"])).select("agent_id", "channel")
    if fit is not None:
        reachable = fit.filter(pl.col("eligible")).select("agent_id", pl.col("queue_id").str.split("/").list.first().alias("channel")).unique()
        avoided = avoided.join(reachable, on=["agent_id", "channel"], how="semi")
    avoided = avoided.unique().with_columns(pl.lit(True).alias("avoided"))
    served = activities.filter(pl.col("channel").is_not_null()).select("agent_id", "channel")
    chan = (
        served.join(avoided, on=["agent_id", "channel"], how="left")
        .filter(pl.col("agent_id").is_in(avoided.get_column("agent_id").unique().to_list()))
        .group_by("agent_id")
        .agg((1.0 - pl.col("avoided").fill_null(False).cast(pl.Float64).mean()).alias("score"))
    )
    items = pl.concat([days, starts, chan.select("agent_id", "score")])
    per = items.group_by("agent_id").agg(pl.len().cast(pl.Int64).alias("items"), pl.col("score").mean().alias("satisfaction"))
    return ids.join(per, on="agent_id", how="left").with_columns(pl.col("items").fill_null(0), pl.col("satisfaction").fill_null(1.0)).sort("agent_id")
