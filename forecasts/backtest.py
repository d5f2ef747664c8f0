"""Rolling-origin backtest of the weekly interval forecast.

For each of the last ``weeks`` complete weeks (seven days from the site's week start, Monday by default) of the
history, the forecast is trained on the data strictly before that week, the week is
forecast, and the forecast is compared with what happened:

* ``wape`` = sum |actual - forecast| / sum actual (DOMAIN.md), of the default method;
* ``wape_seasonal_naive``: the same for the seasonal naive baseline (same interval one
  week earlier);
* ``noise_floor``: the Poisson floor, sum over intervals of sqrt(2 lambda / pi) divided
  by sum of lambda, with lambda = the **actual** contacts of the interval (so the floor is
  the same for every method compared; no forecast can expect to do better);
* ``ratio_to_naive`` = wape / wape_seasonal_naive and ``ratio_to_floor`` = wape / noise_floor.

A queue-week is *not evaluable* (and left out of every metric) when any interval of the
week is missing from history, or any interval of the week before (needed by the seasonal
naive) is missing, or there is no history before the week. Such weeks are counted in
``weeks_not_evaluable`` and listed with the reason by :func:`backtest_weeks`.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from forecasts.weeks import MONDAY, WEEKDAY_NAMES, week_start_of
from forecasts.forecast import (
    ForecastParams,
    _check_interval,
    _prepare_history,
    forecast_week,
    seasonal_naive_week,
)

__all__ = ["backtest", "backtest_weeks", "explain_coverage", "noise_floor", "summarise", "target_weeks", "wape"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def wape(actual: pl.Expr | str, forecast: pl.Expr | str) -> pl.Expr:
    """WAPE aggregation: sum |actual - forecast| / sum actual (null if sum actual is 0)."""
    a = pl.col(actual) if isinstance(actual, str) else actual
    f = pl.col(forecast) if isinstance(forecast, str) else forecast
    total = a.sum()
    return pl.when(total > 0).then((a - f).abs().sum() / total).otherwise(None)


def noise_floor(lam: pl.Expr | str) -> pl.Expr:
    """Poisson noise floor of WAPE: sum sqrt(2 lambda / pi) / sum lambda."""
    x = pl.col(lam) if isinstance(lam, str) else lam
    total = x.sum()
    return pl.when(total > 0).then((x.sqrt() * _SQRT_2_OVER_PI).sum() / total).otherwise(None)


def target_weeks(history: pl.DataFrame, weeks: int, interval_minutes: int, first_weekday: int = MONDAY) -> list[dt.date]:
    """First days of the last ``weeks`` weeks (starting on weekday ``first_weekday``,
    Monday = 0) lying wholly inside the history span and having at least one earlier week
    of history, oldest first."""
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1, got {weeks}")
    _check_interval(interval_minutes)
    if history.height == 0:
        return []
    ts = history["interval_start"].cast(pl.Datetime("us"))
    first, last = ts.min(), ts.max()
    end = last + dt.timedelta(minutes=interval_minutes)  # exclusive end of the history
    last_start = week_start_of(end.date(), first_weekday)
    if dt.datetime.combine(last_start, dt.time(0)) + dt.timedelta(days=7) > end:
        last_start -= dt.timedelta(days=7)
    out = []
    for i in range(weeks):
        m = last_start - dt.timedelta(days=7 * i)
        if dt.datetime.combine(m, dt.time(0)) - dt.timedelta(days=7) < first:
            break
        out.append(m)
    return sorted(out)


def backtest_weeks(
    history: pl.DataFrame,
    weeks: int,
    interval_minutes: int,
    params: ForecastParams | None = None,
    *,
    special_days: dict[dt.date, float] | None = None,
    first_weekday: int = MONDAY,
) -> pl.DataFrame:
    """One row per queue and target week: evaluable flag and reason, sums of actual,
    absolute errors of the method and of seasonal naive, the noise-floor numerator
    (sum sqrt(2 actual / pi)) and the three per-week ratios.

    ``special_days`` (date -> multiplier, 0 = closed) is applied to both the method and
    the seasonal naive baseline of the target week.
    """
    _check_interval(interval_minutes)
    hist = _prepare_history(history, interval_minutes)
    slots = 7 * 1440 // interval_minutes
    mult = pl.DataFrame(
        {
            "date": list((special_days or {}).keys()),
            "multiplier": [float(v) for v in (special_days or {}).values()],
        },
        schema={"date": pl.Date, "multiplier": pl.Float64},
    )
    queues = hist.select("queue_id").unique()
    rows = []
    for first_day in target_weeks(hist, weeks, interval_minutes, first_weekday):
        start = dt.datetime.combine(first_day, dt.time(0))
        actual = hist.filter(
            (pl.col("interval_start") >= start)
            & (pl.col("interval_start") < start + dt.timedelta(days=7))
        ).select("queue_id", "interval_start", pl.col("contacts").alias("actual"))
        fc = forecast_week(
            hist, first_day, interval_minutes, special_days=special_days, params=params
        ).select("queue_id", "interval_start", pl.col("contacts").alias("forecast"))
        naive = (
            seasonal_naive_week(hist, first_day, interval_minutes)
            .with_columns(pl.col("interval_start").dt.date().alias("date"))
            .join(mult, on="date", how="left")
            .select(
                "queue_id",
                "interval_start",
                (pl.col("contacts") * pl.col("multiplier").fill_null(1.0)).alias("naive"),
            )
        )
        trained = (
            hist.filter(pl.col("interval_start") < start)
            .group_by("queue_id")
            .agg(pl.len().alias("n_train"))
        )
        week = fc.join(actual, on=["queue_id", "interval_start"], how="left").join(
            naive, on=["queue_id", "interval_start"], how="left"
        )
        per_q = (
            week.group_by("queue_id")
            .agg(
                pl.col("actual").is_not_null().sum().alias("n_actual"),
                pl.col("naive").is_not_null().sum().alias("n_naive"),
                pl.col("actual").sum().alias("actual"),
                (pl.col("actual") - pl.col("forecast")).abs().sum().alias("abs_error"),
                (pl.col("actual") - pl.col("naive")).abs().sum().alias("abs_error_naive"),
                (pl.col("actual").sqrt() * _SQRT_2_OVER_PI).sum().alias("floor_error"),
            )
            .join(queues, on="queue_id", how="right")
            .join(trained, on="queue_id", how="left")
            .with_columns(
                pl.lit(first_day).alias("week_start"),
                pl.when(pl.col("n_train").fill_null(0) == 0)
                .then(pl.lit("no history before the week"))
                .when(pl.col("n_actual") < slots)
                .then(pl.format("{} of {} intervals missing", slots - pl.col("n_actual"), slots))
                .when(pl.col("n_naive") < slots)
                .then(
                    pl.format(
                        "{} of {} intervals of the week before missing (seasonal naive)",
                        slots - pl.col("n_naive"),
                        slots,
                    )
                )
                .otherwise(None)
                .alias("not_evaluable_reason"),
            )
        )
        rows.append(per_q)
    schema_cols = [
        "queue_id",
        "week_start",
        "evaluable",
        "not_evaluable_reason",
        "actual",
        "abs_error",
        "abs_error_naive",
        "floor_error",
        "wape",
        "wape_seasonal_naive",
        "noise_floor",
    ]
    if not rows:
        return pl.DataFrame(
            schema={
                "queue_id": pl.String,
                "week_start": pl.Date,
                "evaluable": pl.Boolean,
                "not_evaluable_reason": pl.String,
                **{c: pl.Float64 for c in schema_cols[4:]},
            }
        )
    ok = pl.col("evaluable")
    return (
        pl.concat(rows, how="vertical_relaxed")
        .with_columns(pl.col("not_evaluable_reason").is_null().alias("evaluable"))
        .with_columns(
            [
                pl.when(ok).then(pl.col(c).cast(pl.Float64)).otherwise(None).alias(c)
                for c in ("actual", "abs_error", "abs_error_naive", "floor_error")
            ]
        )
        .with_columns(
            _ratio("abs_error", "actual").alias("wape"),
            _ratio("abs_error_naive", "actual").alias("wape_seasonal_naive"),
            _ratio("floor_error", "actual").alias("noise_floor"),
        )
        .select(schema_cols)
        .sort("queue_id", "week_start")
    )


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def summarise(per_week: pl.DataFrame) -> pl.DataFrame:
    """Pool a :func:`backtest_weeks` table per queue and over all queues ('ALL')."""
    aggs = [
        pl.col("evaluable").sum().cast(pl.Int64).alias("weeks_evaluated"),
        (~pl.col("evaluable")).sum().cast(pl.Int64).alias("weeks_not_evaluable"),
        pl.col("actual").sum().alias("actual"),
        pl.col("abs_error").sum().alias("abs_error"),
        pl.col("abs_error_naive").sum().alias("abs_error_naive"),
        pl.col("floor_error").sum().alias("floor_error"),
    ]
    per_q = per_week.group_by("queue_id").agg(aggs).sort("queue_id")
    pooled = per_week.select(aggs).select(pl.lit("ALL").alias("queue_id"), pl.all())
    return (
        pl.concat([per_q, pooled], how="vertical_relaxed")
        .with_columns(
            _ratio("abs_error", "actual").alias("wape"),
            _ratio("abs_error_naive", "actual").alias("wape_seasonal_naive"),
            _ratio("floor_error", "actual").alias("noise_floor"),
        )
        .with_columns(
            _ratio("wape", "wape_seasonal_naive").alias("ratio_to_naive"),
            _ratio("wape", "noise_floor").alias("ratio_to_floor"),
        )
        .select(
            "queue_id",
            "weeks_evaluated",
            "weeks_not_evaluable",
            "actual",
            "wape",
            "wape_seasonal_naive",
            "noise_floor",
            "ratio_to_naive",
            "ratio_to_floor",
        )
    )


def backtest(
    history: pl.DataFrame,
    weeks: int,
    interval_minutes: int,
    params: ForecastParams | None = None,
    *,
    special_days: dict[dt.date, float] | None = None,
    first_weekday: int = MONDAY,
) -> pl.DataFrame:
    """Rolling-origin backtest over the last ``weeks`` complete weeks of ``history``
    (weeks start on weekday ``first_weekday``, Monday = 0).

    Returns one row per queue plus a pooled row with queue_id 'ALL': weeks_evaluated,
    weeks_not_evaluable, actual (contacts in evaluated weeks), wape, wape_seasonal_naive,
    noise_floor (lambda = actual contacts), ratio_to_naive, ratio_to_floor. Metrics are
    null where no week was evaluable. See the module docstring for the definitions.
    """
    return summarise(backtest_weeks(history, weeks, interval_minutes, params, special_days=special_days, first_weekday=first_weekday))


def explain_coverage(history: pl.DataFrame, weeks: int, interval_minutes: int, per_week: pl.DataFrame, first_weekday: int = MONDAY) -> list[str]:
    """How many weeks a backtest asked for and evaluated, and why any were not.

    One line for the weeks asked vs the calendar weeks available (a week is available
    when it lies wholly inside the history and at least one week of history precedes it),
    then one line per week not evaluated for every queue, with the reasons of
    :func:`backtest_weeks`."""
    available = target_weeks(history, weeks, interval_minutes, first_weekday) if history.height else []
    evaluated = per_week.filter("evaluable").get_column("week_start").unique().len() if per_week.height else 0
    lines = [f"asked for {weeks} week(s), evaluated {evaluated}"]
    if len(available) < weeks:
        if history.height:
            ts = history.get_column("interval_start")
            span = f"{ts.min():%Y-%m-%d} to {ts.max():%Y-%m-%d}"
        else:
            span = "empty"
        lines.append(
            f"only {len(available)} complete {WEEKDAY_NAMES[first_weekday]}-to-{WEEKDAY_NAMES[(first_weekday + 6) % 7]} week(s) of the history ({span}) have a week of history before them to train on"
        )
    if per_week.height:
        skipped = (
            per_week.filter(~pl.col("evaluable"))
            .group_by("week_start")
            .agg(pl.col("not_evaluable_reason").unique().sort().alias("reasons"), pl.len().alias("queues"))
            .sort("week_start")
        )
        for row in skipped.iter_rows(named=True):
            lines.append(f"week {row['week_start']}: {row['queues']} queue(s) not evaluated: {'; '.join(row['reasons'])}")
    return lines
