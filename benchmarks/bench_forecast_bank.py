"""Forecast accuracy on real call arrivals: the 2003 US bank data (fpp3 ``bank_calls``).

Data: Weinberg, Brown & Stroud (2007), "Bayesian forecasting of an inhomogeneous
Poisson process with applications to call center data", JASA 102(480), 1185-1198;
redistributed in R package fpp3 / Rdatasets (GPL-3). Read from ../shared/data/, never
copied into the project.

The 5-minute counts (weekdays 07:00-21:05) are summed to 30 minutes and laid on a
complete 7-day grid: weekends, nights and the three public holidays (Memorial Day,
Independence Day, Labor Day) get 0 contacts, and the holidays are passed to the
forecast as closed special days (a planner knows them in advance). The three weekdays
missing from the file without being holidays (2003-04-04, 2003-04-07, 2003-10-14) stay
missing, so the backtest reports their weeks (and the weeks after, for the seasonal
naive) as not evaluable.

Run from the repository root:
    .venv/bin/python benchmarks/bench_forecast_bank.py [--weeks 10] [--interval 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forecasts.backtest import backtest_weeks, summarise  # noqa: E402
from forecasts.forecast import ForecastParams, forecast_week  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "us_bank_calls_5min_2003.csv"
HOLIDAYS_2003 = {
    dt.date(2003, 5, 26): 0.0,  # Memorial Day
    dt.date(2003, 7, 4): 0.0,  # Independence Day
    dt.date(2003, 9, 1): 0.0,  # Labor Day
}
QUEUE = "voice/bank/en"
AHT_SECONDS = 300.0  # the data has counts only; a constant AHT keeps the contract


def bank_history(interval_minutes: int = 30, path: Path = DATA) -> pl.DataFrame:
    """The bank counts as a single-queue ``history`` table on a 7-day grid."""
    raw = pl.read_csv(path, try_parse_dates=True)
    counts = (
        raw.select(
            # UTC-marked but local clock time: drop the marker, keep the clock.
            pl.col("DateTime").dt.replace_time_zone(None).cast(pl.Datetime("us"))
            .dt.truncate(f"{interval_minutes}m").alias("interval_start"),
            pl.col("Calls").cast(pl.Int64),
        )
        .group_by("interval_start")
        .agg(pl.col("Calls").sum().alias("contacts"))
    )
    first = counts["interval_start"].min().date()
    last = counts["interval_start"].max().date()
    first -= dt.timedelta(days=first.weekday())
    last += dt.timedelta(days=6 - last.weekday())
    grid = pl.datetime_range(
        dt.datetime.combine(first, dt.time(0)),
        dt.datetime.combine(last, dt.time(0)) + dt.timedelta(days=1, minutes=-interval_minutes),
        interval=f"{interval_minutes}m",
        time_unit="us",
        eager=True,
    ).alias("interval_start").to_frame()
    present_days = set(counts["interval_start"].dt.date().unique().to_list())
    all_days = pl.date_range(first, last, eager=True).to_list()
    missing_weekdays = [
        d for d in all_days if d.weekday() < 5 and d not in present_days and d not in HOLIDAYS_2003
    ]
    hist = (
        grid.filter(~pl.col("interval_start").dt.date().is_in(missing_weekdays))
        .join(counts, on="interval_start", how="left")
        .select(
            pl.lit(QUEUE).alias("queue_id"),
            "interval_start",
            pl.col("contacts").fill_null(0),
        )
        .with_columns(
            pl.when(pl.col("contacts") > 0).then(AHT_SECONDS).otherwise(None).alias("aht_seconds")
        )
    )
    return hist.filter(
        pl.col("interval_start").dt.date() >= min(present_days)
    ).sort("interval_start")


def _holiday_affected(week_start: dt.date) -> bool:
    """A holiday in the held-out week or in the week before (the naive's source)."""
    return any(
        week_start - dt.timedelta(days=7) <= d < week_start + dt.timedelta(days=7)
        for d in HOLIDAYS_2003
    )


def run(weeks: int, interval_minutes: int, params: ForecastParams | None = None) -> pl.DataFrame:
    hist = bank_history(interval_minutes)
    per_week = backtest_weeks(hist, weeks, interval_minutes, params, special_days=HOLIDAYS_2003)
    return per_week.with_columns(
        pl.col("week_start").map_elements(_holiday_affected, return_dtype=pl.Boolean).alias("holiday")
    )


def error_decomposition(
    hist: pl.DataFrame, mondays: list[dt.date], interval_minutes: int
) -> dict[str, float]:
    """Where the error comes from, pooled over ``mondays``.

    ``day_total_wape``: WAPE of the forecast daily totals; ``wape_given_day_totals``:
    interval WAPE after rescaling each forecast day to its actual total (the error of
    the intraday shape alone); ``day_total_noise_floor``: Poisson floor of daily totals.
    """
    acc = {"abs": 0.0, "abs_day": 0.0, "abs_shape": 0.0, "floor_day": 0.0, "actual": 0.0}
    for monday in mondays:
        start = dt.datetime.combine(monday, dt.time(0))
        fc = forecast_week(hist, monday, interval_minutes, special_days=HOLIDAYS_2003)
        week = fc.join(
            hist.filter(
                (pl.col("interval_start") >= start)
                & (pl.col("interval_start") < start + dt.timedelta(days=7))
            ).select("interval_start", pl.col("contacts").alias("actual")),
            on="interval_start",
        ).with_columns(pl.col("interval_start").dt.date().alias("day"))
        week = week.with_columns(
            (pl.col("contacts") * pl.col("actual").sum().over("day") / pl.col("contacts").sum().over("day"))
            .fill_nan(0.0)
            .alias("shape_only")
        )
        days = week.group_by("day").agg(pl.col("actual").sum(), pl.col("contacts").sum())
        acc["abs"] += (week["actual"] - week["contacts"]).abs().sum()
        acc["abs_shape"] += (week["actual"] - week["shape_only"]).abs().sum()
        acc["abs_day"] += (days["actual"] - days["contacts"]).abs().sum()
        acc["floor_day"] += (days["actual"] * 2 / math.pi).sqrt().sum()
        acc["actual"] += week["actual"].sum()
    return {
        "wape": acc["abs"] / acc["actual"],
        "day_total_wape": acc["abs_day"] / acc["actual"],
        "day_total_noise_floor": acc["floor_day"] / acc["actual"],
        "wape_given_day_totals": acc["abs_shape"] / acc["actual"],
    }


def mstl_per_week(hist: pl.DataFrame, mondays: list[dt.date], interval_minutes: int) -> pl.DataFrame | None:
    """Optional comparison: statsforecast MSTL (daily and weekly seasonality, AutoETS
    trend), refitted for each held-out week on the 12 weeks before it. Returns None
    when statsforecast is not installed (it is not a project dependency)."""
    try:
        import pandas as pd
        from statsforecast import StatsForecast
        from statsforecast.models import MSTL, AutoETS
    except ImportError:
        return None
    per_day = 1440 // interval_minutes
    rows = []
    for monday in mondays:
        start = dt.datetime.combine(monday, dt.time(0))
        train = hist.filter(
            (pl.col("interval_start") < start)
            & (pl.col("interval_start") >= start - dt.timedelta(weeks=12))
        )
        # MSTL needs a gap-free series: missing days are filled from the week before.
        full = pl.datetime_range(
            start - dt.timedelta(weeks=12), start - dt.timedelta(minutes=interval_minutes),
            f"{interval_minutes}m", time_unit="us", eager=True,
        ).alias("interval_start").to_frame()
        train = full.join(train, on="interval_start", how="left").with_columns(
            pl.col("contacts").cast(pl.Float64).fill_null(pl.col("contacts").shift(7 * per_day))
            .fill_null(0.0)
        )
        df = pd.DataFrame(
            {"unique_id": "bank", "ds": train["interval_start"].to_list(), "y": train["contacts"].to_list()}
        )
        sf = StatsForecast(
            models=[MSTL(season_length=[per_day, 7 * per_day], trend_forecaster=AutoETS(model="ZZN"))],
            freq=f"{interval_minutes}min",
        )
        pred = sf.forecast(df=df, h=7 * per_day)
        fc = pl.DataFrame({"interval_start": list(pred["ds"]), "mstl": [max(0.0, v) for v in pred["MSTL"]]})
        fc = fc.with_columns(pl.col("interval_start").cast(pl.Datetime("us")))
        closed = pl.col("interval_start").dt.date().is_in(
            [d for d, m in HOLIDAYS_2003.items() if m == 0.0]
        )
        fc = fc.with_columns(pl.when(closed).then(0.0).otherwise(pl.col("mstl")).alias("mstl"))
        act = hist.filter(
            (pl.col("interval_start") >= start) & (pl.col("interval_start") < start + dt.timedelta(days=7))
        )
        j = act.join(fc, on="interval_start")
        rows.append(
            {
                "week_start": monday,
                "actual": float(j["contacts"].sum()),
                "abs_error_mstl": float((j["contacts"] - j["mstl"]).abs().sum()),
            }
        )
    return pl.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=10, help="held-out weeks (last N calendar weeks)")
    ap.add_argument("--interval", type=int, default=30, help="interval length, minutes")
    ap.add_argument("--mstl", action="store_true", help="also run statsforecast MSTL if installed")
    args = ap.parse_args(argv)
    if not DATA.is_file():
        print(f"data file not found: {DATA}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    per_week = run(args.weeks, args.interval)
    elapsed = time.perf_counter() - t0
    pl.Config.set_tbl_rows(100)
    pl.Config.set_tbl_cols(20)
    pl.Config.set_float_precision(4)
    pl.Config.set_tbl_width_chars(160)
    print(f"US bank 2003, {args.interval}-min intervals, last {args.weeks} weeks held out one at a time")
    print(
        per_week.select(
            "week_start",
            "holiday",
            "evaluable",
            "actual",
            "wape",
            "wape_seasonal_naive",
            "noise_floor",
            (pl.col("wape") / pl.col("noise_floor")).alias("x_floor"),
            (pl.col("wape") / pl.col("wape_seasonal_naive")).alias("x_naive"),
            "not_evaluable_reason",
        )
    )
    table = pl.concat(
        [
            summarise(per_week).filter(pl.col("queue_id") == "ALL").with_columns(
                pl.lit("all evaluable weeks").alias("weeks")
            ),
            summarise(per_week.filter(~pl.col("holiday"))).filter(pl.col("queue_id") == "ALL")
            .with_columns(pl.lit("without holiday weeks").alias("weeks")),
        ]
    ).select(
        "weeks",
        "weeks_evaluated",
        "wape",
        "wape_seasonal_naive",
        "noise_floor",
        "ratio_to_floor",
        "ratio_to_naive",
    )
    print(table)
    for row in table.iter_rows(named=True):
        ok_floor = row["ratio_to_floor"] <= 1.15
        ok_naive = row["ratio_to_naive"] <= 0.85
        print(
            f"{row['weeks']}: WAPE {row['wape']:.4f} = {row['ratio_to_floor']:.2f} x floor "
            f"(target <= 1.15: {'met' if ok_floor else 'NOT met'}), "
            f"{row['ratio_to_naive']:.2f} x seasonal naive (target <= 0.85: "
            f"{'met' if ok_naive else 'NOT met'})"
        )
    evaluated = per_week.filter("evaluable")
    for label, frame in (
        ("all evaluable weeks", evaluated),
        ("without holiday weeks", evaluated.filter(~pl.col("holiday"))),
    ):
        dec = error_decomposition(bank_history(args.interval), frame["week_start"].to_list(), args.interval)
        print(
            f"error decomposition, {label}: interval WAPE {dec['wape']:.4f}; daily totals WAPE "
            f"{dec['day_total_wape']:.4f} (Poisson floor of daily totals {dec['day_total_noise_floor']:.4f}); "
            f"interval WAPE given the actual daily totals {dec['wape_given_day_totals']:.4f}"
        )
    if args.mstl:
        mstl = mstl_per_week(bank_history(args.interval), evaluated["week_start"].to_list(), args.interval)
        if mstl is None:
            print("statsforecast is not installed: MSTL comparison skipped", file=sys.stderr)
        else:
            both = mstl.join(evaluated.select("week_start", "holiday"), on="week_start")
            for label, frame in (("all evaluable weeks", both), ("without holiday weeks", both.filter(~pl.col("holiday")))):
                print(f"MSTL (statsforecast), {label}: WAPE {frame['abs_error_mstl'].sum() / frame['actual'].sum():.4f}")
    print(f"backtest time {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
