"""Plan versus actual: what the tool would have planned for a past week against what the
centre did (`staffing actuals DIR --week MON`).

The plan is made exactly as for a future week, from the history strictly before the week
(forecast, then requirements). The actuals come from the site's `actuals.csv`, written by
`staffing import calls` (docs/import.md). Per queue and interval the comparison holds the
forecast and the offered contacts, the requirement and the agents who served the queue,
and the service level the plan expected and the one achieved. Site-wide, per interval,
it also asks the queueing model what service the *actual* load and headcount should
have given (pooled Erlang A over all voice queues with the agents on duty), which is the
check of the model against reality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from forecasts.backtest import wape
from forecasts.queueing import erlang_a
from staffing.errors import InputError, Problem
from staffing.site import Site
from staffing.site.tables import Column, TableSchema, read_raw, validate_table
from staffing.stages import site_forecast, site_requirements

ACTUALS_FILE = "actuals.csv"

ACTUALS = TableSchema(
    name="actuals",
    columns=(
        Column("queue_id", "str"),
        Column("interval_start", "datetime"),
        Column("offered", "int"),
        Column("answered", "int"),
        Column("answered_within_target", "int"),
        Column("abandoned", "int"),
        Column("service_level", "float", nullable=True),
        Column("asa_seconds", "float", nullable=True),
        Column("mean_wait_seconds", "float", nullable=True),
        Column("busy_erlangs", "float"),
        Column("agents_serving", "int"),
        Column("agents_on_duty", "int"),
    ),
    key=("queue_id", "interval_start"),
)


def read_actuals(site: Site, path: str | Path | None = None) -> pl.DataFrame:
    """The site's actuals table (default `actuals.csv` in the site folder), typed and checked."""
    path = Path(path) if path else site.root / ACTUALS_FILE
    if not path.is_file():
        raise InputError([Problem(path.name, f"not found at {path}; 'staffing import calls LOG --site {site.root}' writes it")], headline="no actuals")
    warnings: list[str] = []
    typed, problems = validate_table(read_raw(path), ACTUALS, path, warnings)
    if problems:
        raise InputError(problems, headline=f"invalid actuals {path}")
    return typed.drop("__row")


@dataclass
class PlanVsActual:
    """The comparison tables of one week."""

    week: dt.date
    intervals: pl.DataFrame  # per queue and interval
    queues: pl.DataFrame  # per queue over the week
    site: pl.DataFrame  # per interval, all queues of the modelled channel


def plan_vs_actual(site: Site, week: dt.date, actuals: pl.DataFrame) -> PlanVsActual:
    """Plan `week` from the history before it and compare it with `actuals`."""
    step = site.interval_minutes
    start = dt.datetime.combine(week, dt.time())
    end = start + dt.timedelta(days=7)
    act = actuals.filter(pl.col("interval_start").is_between(start, end, closed="left"))
    if act.height == 0:
        first, last = actuals.get_column("interval_start").min(), actuals.get_column("interval_start").max()
        raise InputError([Problem(ACTUALS_FILE, f"no actuals in the week of {week}; the file covers {first:%Y-%m-%d} to {last:%Y-%m-%d}")], headline="cannot compare")
    fc = site_forecast(site, week, check_week=False)  # a past week: what the plan would have been
    req = site_requirements(site, fc, week)
    history = site.history.filter(pl.col("interval_start").is_between(start, end, closed="left")).select("queue_id", "interval_start", pl.col("aht_seconds").alias("actual_aht_seconds"))
    rows = (
        req.select(
            "queue_id", "interval_start", "channel", pl.col("contacts").alias("forecast"), pl.col("aht_seconds").alias("forecast_aht_seconds"),
            "required_agents", "agents_occupancy", pl.col("service_level").alias("planned_service_level"),
            pl.col("abandon_rate").alias("planned_abandon_rate"),
        )
        .join(act, on=["queue_id", "interval_start"], how="left")
        .join(history, on=["queue_id", "interval_start"], how="left")
        .join(site.targets().select("queue_id", pl.col("service_level").alias("target_service_level")), on="queue_id", how="left")
        .with_columns(pl.col("offered", "answered", "answered_within_target", "abandoned", "agents_serving", "agents_on_duty").fill_null(0), pl.col("busy_erlangs").fill_null(0.0))
        .sort("queue_id", "interval_start")
    )
    hours = step / 60
    per_day = rows.group_by("queue_id", pl.col("interval_start").dt.date().alias("day")).agg(pl.col("offered").sum(), pl.col("forecast").sum())
    daily = per_day.group_by("queue_id").agg(wape("offered", "forecast").alias("daily_wape"))
    queues = (
        rows.group_by("queue_id")
        .agg(
            pl.col("forecast").sum(),
            pl.col("offered").sum(),
            wape("offered", "forecast").alias("interval_wape"),
            ((pl.col("planned_service_level") * pl.col("forecast")).sum() / pl.col("forecast").filter(pl.col("planned_service_level").is_not_null()).sum()).alias("planned_service_level"),
            (pl.col("answered_within_target").sum() / pl.col("offered").sum()).alias("achieved_service_level"),
            (pl.col("abandoned").sum() / pl.col("offered").sum()).alias("abandon_rate"),
            (pl.col("required_agents").sum() * hours).alias("required_agent_hours"),
            (pl.col("agents_occupancy").sum() * hours).alias("on_queue_agent_hours_planned"),
            (pl.col("agents_serving").sum() * hours).alias("serving_agent_hours"),
            (pl.col("busy_erlangs").sum() * hours).alias("busy_agent_hours"),
        )
        .join(daily, on="queue_id", how="left")
        .sort("queue_id")
    )
    return PlanVsActual(week, rows, queues, _site_check(site, rows))


def _site_check(site: Site, rows: pl.DataFrame) -> pl.DataFrame:
    """Per interval, voice queues pooled: agents on duty, required heads, achieved SL and the
    Erlang A service level the actual load and headcount should have given.

    Load = sum of offered x actual AHT / interval seconds; patience = the mean of the
    queues' patience weighted by offered contacts; answer time = the contact-weighted target
    answer time. Intervals without offered contacts are left out."""
    targets = site.targets().filter(pl.col("model").is_in(["erlang_a", "erlang_c"]))
    if targets.height == 0:
        return pl.DataFrame()
    seconds = site.interval_minutes * 60
    voice = rows.join(targets.select("queue_id", "patience_seconds", "answer_seconds"), on="queue_id").filter(pl.col("offered") > 0)
    per = (
        voice.group_by("interval_start")
        .agg(
            pl.col("offered").sum(),
            pl.col("answered_within_target").sum(),
            pl.col("agents_on_duty").first(),
            pl.col("required_agents").sum(),
            pl.col("agents_occupancy").sum(),
            ((pl.col("offered") * pl.col("actual_aht_seconds").fill_null(pl.col("forecast_aht_seconds"))).sum()).alias("work_seconds"),
            ((pl.col("offered") * pl.col("patience_seconds").fill_null(float("inf"))).sum() / pl.col("offered").sum()).alias("patience_seconds"),
            ((pl.col("offered") * pl.col("answer_seconds")).sum() / pl.col("offered").sum()).alias("answer_seconds"),
        )
        .sort("interval_start")
        .with_columns((pl.col("work_seconds") / seconds).alias("load_erlangs"), (pl.col("work_seconds") / pl.col("offered")).alias("aht_seconds"))
    )
    predicted = erlang_a(
        per.get_column("agents_on_duty").to_numpy(),
        per.get_column("load_erlangs").to_numpy(),
        per.get_column("aht_seconds").to_numpy(),
        per.get_column("patience_seconds").to_numpy(),
        per.get_column("answer_seconds").to_numpy(),
    )
    return per.with_columns(
        (pl.col("answered_within_target") / pl.col("offered")).alias("achieved_service_level"),
        pl.Series("predicted_service_level", predicted.service_level),
    ).select(
        "interval_start", "offered", "load_erlangs", "agents_on_duty", "required_agents", "agents_occupancy",
        "achieved_service_level", "predicted_service_level",
    )


def site_summary(check: pl.DataFrame) -> dict[str, float]:
    """Offered-weighted achieved and predicted service level, on-duty and required agent-hours."""
    if check.height == 0:
        return {}
    w = check.get_column("offered")
    return {
        "offered": float(w.sum()),
        "achieved_service_level": float((check.get_column("achieved_service_level") * w).sum() / w.sum()),
        "predicted_service_level": float((check.get_column("predicted_service_level") * w).sum() / w.sum()),
        "agents_on_duty_mean": float((check.get_column("agents_on_duty") * w).sum() / w.sum()),
        "required_agents_mean": float((check.get_column("required_agents") * w).sum() / w.sum()),
    }


def _weighted(value: str, weight: str) -> pl.Expr:
    """Sum of value x weight over the rows where value is known, divided by their weight (null when none)."""
    known = pl.col(value).is_not_null() & pl.col(value).is_not_nan()
    w = pl.col(weight).filter(known).sum()
    return pl.when(w > 0).then((pl.col(value) * pl.col(weight)).filter(known).sum() / w).otherwise(None)


def _period_figures(frame: pl.DataFrame, keys: list[str], step: int) -> pl.DataFrame:
    """Forecast and offered contacts, planned and achieved service level and abandonment
    (over the queues with a service-level target), planned and actual staffing, per `keys`."""
    hours = step / 60
    targeted = pl.col("target_service_level").is_not_null()
    return (
        frame.group_by(keys)
        .agg(
            pl.col("forecast").sum(),
            pl.col("offered").sum(),
            _weighted("planned_service_level", "forecast").alias("planned_service_level"),
            pl.when(pl.col("offered").filter(targeted).sum() > 0)
            .then(pl.col("answered_within_target").filter(targeted).sum() / pl.col("offered").filter(targeted).sum())
            .otherwise(None).alias("achieved_service_level"),
            _weighted("planned_abandon_rate", "forecast").alias("planned_abandon_rate"),
            pl.when(pl.col("offered").filter(targeted).sum() > 0)
            .then(pl.col("abandoned").filter(targeted).sum() / pl.col("offered").filter(targeted).sum())
            .otherwise(None).alias("achieved_abandon_rate"),
            (pl.col("required_agents").sum() * hours).alias("required_agent_hours"),
        )
        .sort(keys)
    )


def day_table(result: PlanVsActual, step: int) -> pl.DataFrame:
    """Per day of the week, all queues: forecast vs offered (with the day's WAPE over queues),
    planned vs achieved service level and abandonment, agent-hours to schedule (pooled, with
    shrinkage) and actually on duty (site-wide, from the actuals' agents_on_duty)."""
    rows = result.intervals.with_columns(pl.col("interval_start").dt.date().alias("date"))
    per = _period_figures(rows, ["date"], step)
    per_queue_day = rows.group_by("date", "queue_id").agg(pl.col("offered").sum(), pl.col("forecast").sum())
    wape_day = per_queue_day.group_by("date").agg(wape("offered", "forecast").alias("wape"))
    duty = (rows.group_by("interval_start").agg(pl.col("agents_on_duty").max(), pl.col("date").first())
            .group_by("date").agg((pl.col("agents_on_duty").sum() * step / 60).alias("on_duty_agent_hours")))
    return per.join(wape_day, on="date", how="left").join(duty, on="date", how="left").sort("date")


def interval_table(result: PlanVsActual, step: int) -> pl.DataFrame:
    """Per interval, all queues: the figures of `day_table`, agents on duty, and the Erlang A
    service level at the actual load and headcount (voice pooled, `PlanVsActual.site`)."""
    per = _period_figures(result.intervals, ["interval_start"], step)
    duty = result.intervals.group_by("interval_start").agg(pl.col("agents_on_duty").max(), pl.col("required_agents").sum())
    out = per.join(duty, on="interval_start", how="left")
    if result.site.height:
        out = out.join(result.site.select("interval_start", pl.col("predicted_service_level").alias("erlang_a_service_level")),
                       on="interval_start", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("erlang_a_service_level"))
    return out.sort("interval_start")
