"""The demand stages on a site: forecast and requirements, from the site or the user's files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from forecasts.backtest import backtest
from forecasts.forecast import ForecastInputError, forecast_week, read_forecast
from forecasts.requirements import requirements, unmet_targets
from staffing.errors import InputError, Problem
from staffing.site import Site

HISTORY_COLUMNS = ("queue_id", "interval_start", "contacts", "aht_seconds")


def _input_error(exc: ForecastInputError) -> InputError:
    return InputError([Problem(Path(exc.source).name, e) for e in exc.errors], headline=f"invalid forecast {exc.source}")


def site_forecast(site: Site, week: dt.date | None = None, forecast_file: str | Path | None = None) -> pl.DataFrame:
    """The `forecast` table for the plan week: the user's file if given (or named in
    site.toml [files] forecast), else forecast from the site's history."""
    week = week or site.plan_week()
    path = forecast_file or (site.root / site.config.files.forecast if site.config.files.forecast else None)
    if path is not None:
        try:
            fc = read_forecast(path, interval_minutes=site.interval_minutes, week_start=week)
        except ForecastInputError as exc:
            raise _input_error(exc) from None
        unknown = sorted(set(fc.get_column("queue_id").unique()) - set(site.config.queue_ids))
        if unknown:
            raise InputError([Problem(Path(path).name, f"queue {q!r} is not declared in site.toml [[queues]]", column="queue_id") for q in unknown])
        return fc
    return forecast_week(site.history.select(HISTORY_COLUMNS), week, site.interval_minutes, special_days=site.special_days())


def site_requirements(site: Site, forecast: pl.DataFrame, week: dt.date | None = None) -> pl.DataFrame:
    """The `requirements` table: queueing model per queue, occupancy cap, shrinkage."""
    week = week or site.plan_week()
    # Every declared queue gets rows, even one without history (0 contacts).
    grid = site.open_hours(week).select("queue_id", "interval_start")
    fc = grid.join(forecast, on=["queue_id", "interval_start"], how="left").with_columns(
        pl.col("contacts").fill_null(0.0), pl.col("aht_seconds").fill_null(300.0)
    )
    return requirements(fc, site.targets(), site.open_hours(week), site.interval_minutes)


def site_backtest(site: Site, weeks: int) -> pl.DataFrame:
    return backtest(site.history.select(HISTORY_COLUMNS), weeks, site.interval_minutes, special_days=site.special_days())


def requirement_notes(req: pl.DataFrame, limit: int = 10) -> list[str]:
    """Queue-intervals whose target cannot be met, as planner-readable lines."""
    unmet = unmet_targets(req)
    lines = []
    for row in unmet.head(limit).iter_rows(named=True):
        reason = row.get("reason", "target cannot be met")
        lines.append(f"{row['queue_id']} {row['interval_start']:%a %Y-%m-%d %H:%M}: {reason}")
    if unmet.height > limit:
        lines.append(f"... and {unmet.height - limit} more queue-intervals")
    return lines
