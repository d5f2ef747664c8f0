"""A planner-readable summary of a validated site (what `staffing check` prints)."""

from __future__ import annotations

import polars as pl

from staffing.site.load import Site


def site_summary(site: Site) -> dict:
    """Figures a planner checks before planning: queues, history, volumes, agents."""
    cfg = site.config
    hist = site.history
    first, last = hist.get_column("interval_start").min(), hist.get_column("interval_start").max()
    days = (last - first).total_seconds() / 86400 + cfg.site.interval_minutes / 1440
    queues = site.queues()
    by_channel = queues.group_by("channel").agg(pl.col("language").unique().sort().alias("languages"), pl.len().alias("queues")).sort("channel")
    last_week = hist.filter(pl.col("interval_start") > last - pl.duration(days=7))
    volume = (
        last_week.group_by("channel", "driver")
        .agg(pl.col("contacts").sum().alias("contacts"), ((pl.col("contacts") * pl.col("aht_seconds").fill_null(0)).sum() / pl.col("contacts").sum()).alias("aht_seconds"))
        .sort("channel", "driver")
    )
    langs = site.agent_languages.filter(pl.col("fluency") >= 0.6).group_by("language").agg(pl.len().alias("agents")).sort("language")
    contracts = site.agents.group_by("contract").agg(pl.len().alias("agents"), pl.col("min_hours_week").sum().alias("min_hours"), pl.col("max_hours_week").sum().alias("max_hours"),
        pl.col("min_hours_week").min().alias("least_hours"), pl.col("max_hours_week").max().alias("most_hours")).sort("contract")
    return {
        "site": cfg.site.name,
        "timezone": cfg.site.timezone,
        "interval_minutes": cfg.site.interval_minutes,
        "week_start": cfg.site.week_start,
        "weekend": list(cfg.rules.weekend),
        "plan_week": site.plan_week().isoformat(),
        "queues": by_channel.to_dicts(),
        "history_first": first.isoformat(timespec="minutes"),
        "history_last": last.isoformat(timespec="minutes"),
        "history_weeks": round(days / 7, 1),
        "last_week_volume": volume.to_dicts(),
        "agents": site.agents.height,
        "agents_by_language": langs.to_dicts(),
        "agents_by_contract": contracts.to_dicts(),
        "warnings": list(site.warnings),
    }
