"""The demand stages on a site: forecast and requirements, from the site or the user's files."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import polars as pl

from forecasts.backtest import backtest_weeks, explain_coverage, summarise
from forecasts.forecast import ForecastInputError, ForecastParams, forecast_week, history_warnings, read_forecast
from forecasts.pooling import pool_requirements
from forecasts.weeks import week_start_of
from forecasts.requirements import requirements, unmet_targets
from staffing.errors import InputError, Problem
from staffing.site import Site
from staffing.site.tables import csv_bytes

HISTORY_COLUMNS = ("queue_id", "interval_start", "contacts", "aht_seconds")


_ROW_COLUMN = re.compile(r"^row (\d+), column '?([\w]+)'?: (.*)$", re.S)


def _input_error(exc: ForecastInputError) -> InputError:
    """The forecast package's messages as `Problem`s (file, row, column, message)."""
    problems = []
    for e in exc.errors:
        m = _ROW_COLUMN.match(e)
        if m:
            problems.append(Problem(Path(exc.source).name, m.group(3), row=int(m.group(1)), column=m.group(2)))
        else:
            problems.append(Problem(Path(exc.source).name, e))
    return InputError(problems, headline=f"invalid forecast {exc.source}")


def site_forecast(site: Site, week: dt.date | None = None, forecast_file: str | Path | None = None, *, check_week: bool = True) -> pl.DataFrame:
    """The `forecast` table for the plan week: the user's file if given (or named in
    site.toml [files] forecast), else forecast from the site's history. `check_week`: refuse
    a week the history cannot forecast (`check_plan_week`); plan versus actual turns it off
    to report what the plan would have been (0 where no earlier history exists).
    `week` must start on the site's `[site] week_start` weekday. Local times a spring-forward
    change skips get 0 contacts (they do not exist; docs/forecasting.md, "Daylight saving")."""
    week = site.check_week(week) if week else site.plan_week()
    path = forecast_file or (site.root / site.config.files.forecast if site.config.files.forecast else None)
    if path is not None:
        if Path(path).suffix.lower() != ".parquet":
            csv_bytes(Path(path))  # encoding, workbook and delimiter hints before the forecast reader
        try:
            fc = read_forecast(path, interval_minutes=site.interval_minutes, week_start=week)
        except ForecastInputError as exc:
            raise _input_error(exc) from None
        unknown = sorted(set(fc.get_column("queue_id").unique()) - set(site.config.queue_ids))
        if unknown:
            raise InputError([Problem(Path(path).name, f"queue {q!r} is not declared in site.toml [[queues]]", column="queue_id") for q in unknown])
        return fc
    if check_week:
        check_plan_week(site, week)
    fc = forecast_week(site.history.select(HISTORY_COLUMNS), week, site.interval_minutes, special_days=site.special_days())
    return fc.with_columns(pl.when(site.skipped_local_time(pl.col("interval_start"))).then(0.0).otherwise(pl.col("contacts")).alias("contacts"))


def check_plan_week(site: Site, week: dt.date, params: ForecastParams | None = None) -> None:
    """Refuse a plan week the history cannot forecast: the forecast looks back a fixed number
    of weeks (ForecastParams), so a week with no history in that window would be forecast
    as zero contacts everywhere, and a roster for it would staff nothing but the rules."""
    params = params or ForecastParams()
    lookback = max(params.profile_weeks, params.aht_weeks)
    start = dt.datetime.combine(week, dt.time())
    times = site.history.get_column("interval_start")
    first, last = times.min(), times.max()
    used = times.filter((times < start) & (times >= start - dt.timedelta(weeks=lookback)))
    if used.len():
        return
    if start <= first:
        what = f"starts before the history does ({first:%Y-%m-%d}); the forecast uses only earlier history"
    else:
        what = f"starts {(start - last).days // 7} weeks after the history ends ({last:%Y-%m-%d}); the forecast looks back {lookback} weeks"
    end = (last + dt.timedelta(weeks=lookback)).date()
    latest = week_start_of(end, site.first_weekday)
    earliest = week_start_of(first.date(), site.first_weekday) + dt.timedelta(days=7)
    raise InputError(
        [Problem("--week", f"{week.isoformat()} {what}, so it would be 0 everywhere; plan a week from {earliest.isoformat()} to {latest.isoformat()}, add recent history, or give a forecast file")],
        headline="cannot forecast the plan week",
    )


def plan_week_warnings(site: Site) -> list[str]:
    """What `check` says about the default plan week when the history cannot forecast it."""
    if site.config.files.forecast:
        return []
    week = site.plan_week()
    try:
        check_plan_week(site, week)
    except InputError as exc:
        return [f"the default plan week {week.isoformat()} cannot be forecast: {p.message}" for p in exc.problems]
    return []


def site_requirements(site: Site, forecast: pl.DataFrame, week: dt.date | None = None, fit: pl.DataFrame | None = None) -> pl.DataFrame:
    """The `requirements` table: queueing model per queue, occupancy cap, shrinkage, then
    pooled across queues served by the same agents as site.toml `[pooling]` says (`fit`:
    the fit table whose `eligible` pairs say who serves what; computed when not given)."""
    week = week or site.plan_week()
    # Every declared queue gets rows, even one without history (0 contacts).
    open_hours = site.open_hours(week)
    fc = open_hours.select("queue_id", "interval_start").join(forecast, on=["queue_id", "interval_start"], how="left").with_columns(
        pl.col("contacts").fill_null(0.0), pl.col("aht_seconds").fill_null(300.0)
    )
    targets = site.targets()
    from staffing.calibration import apply_calibration, shrinkage_days  # calibration.toml, when present (docs/calibration.md)

    fc, targets, _ = apply_calibration(site, fc, targets)
    pooling = site.config.pooling
    fit = site_fit(site) if fit is None and pooling.mode != "none" else fit
    pools = site_pools(site, fit)
    skills = fit.filter(pl.col("eligible")).select("agent_id", "queue_id") if pooling.mode == "reach" and fit is not None else None
    parts = []
    # one part per shrinkage: the site's, or each weekday's calibrated shrinkage on voice and chat
    for rows, part_targets in shrinkage_days(site, fc, targets):
        alone = requirements(rows, part_targets, open_hours, site.interval_minutes)
        parts.append(pool_requirements(alone, part_targets, pools, site.interval_minutes, skills=skills))
    return parts[0] if len(parts) == 1 else pl.concat(parts).sort("queue_id", "interval_start")


def site_pools(site: Site, fit: pl.DataFrame | None) -> pl.DataFrame:
    """queue_id -> pool under the site's `[pooling]` settings (every queue alone when the
    mode is `none`)."""
    from staffing.routing import skill_pools

    pooling = site.config.pooling
    if pooling.mode == "none" or fit is None:
        return site.targets().select("queue_id", pl.col("queue_id").alias("pool"))
    return skill_pools(fit, site.targets(), pooling.mode, pooling.min_overlap)


def site_backtest(site: Site, weeks: int) -> tuple[pl.DataFrame, list[str]]:
    """The backtest summary table and lines saying how many weeks were evaluated and why not more."""
    history = site.history.select(HISTORY_COLUMNS)
    per_week = backtest_weeks(history, weeks, site.interval_minutes, special_days=site.special_days(), first_weekday=site.first_weekday)
    return summarise(per_week), explain_coverage(history, weeks, site.interval_minutes, per_week, site.first_weekday)


def forecast_warnings(site: Site, week: dt.date) -> list[str]:
    """Warnings when the site's history is shorter than the forecast method needs."""
    return history_warnings(site.history.select(HISTORY_COLUMNS), week, site.interval_minutes)


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


def site_fit(site: Site, fit_file: str | Path | None = None, needs: pl.DataFrame | None = None) -> pl.DataFrame:
    """The `fit` table: the user's file if given (or named in site.toml [files] fit), else
    computed by `profiles` from the site's agents, segments and demographics."""
    path = fit_file or (site.root / site.config.files.fit if site.config.files.fit else None)
    if path is not None:
        return read_fit_file(Path(path), site)
    from profiles import ProfilesError, fit_matrix

    try:
        return fit_matrix(
            site.agents.select("agent_id", "contract"),
            site.agent_skills,
            site.agent_languages,
            site.agent_styles,
            site.agent_channel_prefs,
            site_needs(site) if needs is None else needs,
            site.queues(),
            site.config.fit_weights.model_dump(),
            site.config.culture.dimensions,
            protected=site.config.culture.protected_attributes,
        )
    except ProfilesError as exc:
        raise InputError([Problem(site.config.files.agents, str(exc))], headline=f"cannot score fit for {site.root}") from None


def site_needs(site: Site) -> pl.DataFrame:
    """Each queue's customer needs profile (profiles.queue_needs on the site's tables)."""
    from profiles import queue_needs

    return queue_needs(site.demographics, site.segments, site.segment_needs, site.queues())


FIT_COLUMNS = {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "eligible": pl.Boolean, "fit": pl.Float64}


def read_fit_file(path: Path, site: Site) -> pl.DataFrame:
    """A fit matrix computed elsewhere (.csv or .parquet): agent_id, queue_id, eligible, fit
    at least; component columns and reasons are kept when present."""
    if not path.is_file():
        raise InputError([Problem(path.name, "file not found")], headline="cannot read fit file")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(io.BytesIO(csv_bytes(path)), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([Problem(path.name, f"not a readable table ({first})")], headline="cannot read fit file") from None
    offset = 1 if path.suffix.lower() == ".parquet" else 2
    problems = [Problem(path.name, "missing required column", column=c) for c in FIT_COLUMNS if c not in frame.columns]
    if problems:
        raise InputError(problems, headline=f"invalid fit file {path}")
    frame = frame.with_row_index("__row")
    typed = frame.with_columns(
        pl.col("eligible").cast(pl.Utf8).str.to_lowercase().replace_strict({"true": True, "false": False, "1": True, "0": False}, default=None, return_dtype=pl.Boolean),
        pl.col("fit").cast(pl.Float64, strict=False),
    )
    for row in typed.filter(pl.col("eligible").is_null()).head(20).iter_rows(named=True):
        problems.append(Problem(path.name, f"expected true or false, got {frame[row['__row'], 'eligible']!r}", row=row["__row"] + offset, column="eligible"))
    for row in typed.filter(pl.col("fit").is_null() | pl.col("fit").is_nan() | (pl.col("fit") < 0) | (pl.col("fit") > 1)).head(20).iter_rows(named=True):
        problems.append(Problem(path.name, f"expected a number from 0 to 1, got {frame[row['__row'], 'fit']!r}", row=row["__row"] + offset, column="fit"))
    known_agents = set(site.agents.get_column("agent_id"))
    for row in typed.filter(~pl.col("agent_id").is_in(sorted(known_agents))).head(5).iter_rows(named=True):
        problems.append(Problem(path.name, f"unknown agent {row['agent_id']!r}", row=row["__row"] + offset, column="agent_id"))
    for row in typed.filter(~pl.col("queue_id").is_in(site.config.queue_ids)).head(5).iter_rows(named=True):
        problems.append(Problem(path.name, f"queue {row['queue_id']!r} is not declared in site.toml", row=row["__row"] + offset, column="queue_id"))
    if problems:
        raise InputError(problems, headline=f"invalid fit file {path}")
    return typed.drop("__row").with_columns(pl.col("agent_id").cast(pl.Utf8), pl.col("queue_id").cast(pl.Utf8))
