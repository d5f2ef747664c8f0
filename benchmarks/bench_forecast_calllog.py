"""Forecast accuracy on the Anonymous Bank call log (issue 14 target): a short, falling history.

The log (Israel, 1-21 February 1999; ../shared/data, never copied) is imported with
examples/import/anonymous_bank.toml. Weeks 1-2 (Monday 1 to Sunday 14 February) are the
history; week 3 (15-21 February) is held out and forecast. Reported, pooled over the six
queues:

* site daily WAPE: over the 7 days, |actual - forecast| of the site's day total (all
  queues) / sum actual, against repeating last week (the same day one week earlier);
* queue daily WAPE: the same over queue-days;
* interval WAPE: over every 30-minute interval, against the seasonal naive (the same
  interval one week earlier).

Before/after: "before" is the method with the long-history settings forced (median-polish
week levels, per-queue trend, damping 0.5: what every history got before the
short-history settings); "after" the defaults. The same comparison runs on the real US
bank arrivals (benchmarks/bench_forecast_bank.py data) cut to 2- and 3-week histories
before each of its last 20 weeks: this backtest chose the short-history settings.

Run from the repository root:
    .venv/bin/python benchmarks/bench_forecast_calllog.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "benchmarks"))

from forecasts.backtest import target_weeks, wape  # noqa: E402
from forecasts.forecast import ForecastParams, forecast_week, seasonal_naive_week  # noqa: E402
from staffing.site.calllog import history_table, read_call_log, read_map  # noqa: E402

LOG = REPO.parent / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
MAP = REPO / "examples" / "import" / "anonymous_bank.toml"
HELD_OUT = dt.date(1999, 2, 15)


def bank_history() -> pl.DataFrame:
    """The imported history (history contract) of the bank log."""
    imap = read_map(MAP)
    return history_table(read_call_log(LOG, imap), imap.site.interval_minutes)


def score(history: pl.DataFrame, params: ForecastParams | None = None) -> dict[str, float]:
    """Daily and interval WAPE of the forecast and of the naive baselines on the held-out week."""
    train = history.filter(pl.col("interval_start") < dt.datetime.combine(HELD_OUT, dt.time()))
    end = dt.datetime.combine(HELD_OUT + dt.timedelta(days=7), dt.time())
    actual = history.filter(pl.col("interval_start").is_between(dt.datetime.combine(HELD_OUT, dt.time()), end, closed="left"))
    fc = forecast_week(train, HELD_OUT, 30, params=params).rename({"contacts": "forecast"})
    naive = seasonal_naive_week(train, HELD_OUT, 30).rename({"contacts": "naive"})
    both = actual.select("queue_id", "interval_start", pl.col("contacts").cast(pl.Float64)).join(
        fc.select("queue_id", "interval_start", "forecast"), on=["queue_id", "interval_start"]
    ).join(naive.select("queue_id", "interval_start", "naive"), on=["queue_id", "interval_start"])
    daily = both.group_by("queue_id", pl.col("interval_start").dt.date().alias("d")).agg(pl.col("contacts", "forecast", "naive").sum())
    site = daily.group_by("d").agg(pl.col("contacts", "forecast", "naive").sum())
    return {
        "site_daily_wape": site.select(wape("contacts", "forecast")).item(),
        "site_daily_wape_last_week": site.select(wape("contacts", "naive")).item(),
        "week_actual": float(both["contacts"].sum()),
        "week_forecast": float(both["forecast"].sum()),
        "daily_wape": daily.select(wape("contacts", "forecast")).item(),
        "daily_wape_last_week": daily.select(wape("contacts", "naive")).item(),
        "interval_wape": both.select(wape("contacts", "forecast")).item(),
        "interval_wape_naive": both.select(wape("contacts", "naive")).item(),
    }


BEFORE = ForecastParams(week_level="polish", trend_scope="queue", trend_damping=0.5)


def us_bank_short(weeks_of_history: int, params: ForecastParams | None) -> tuple[int, float]:
    """Interval WAPE on the US bank's last 20 weeks, each forecast from only the
    `weeks_of_history` weeks before it (weeks with missing data skipped)."""
    import bench_forecast_bank as us  # noqa: PLC0415 (a sibling benchmark)

    hist = us.bank_history(30)
    rows = []
    for monday in target_weeks(hist, 20, 30):
        start = dt.datetime.combine(monday, dt.time())
        train = hist.filter(pl.col("interval_start").is_between(start - dt.timedelta(weeks=weeks_of_history), start, closed="left"))
        actual = hist.filter(pl.col("interval_start").is_between(start, start + dt.timedelta(weeks=1), closed="left"))
        if actual.height < 7 * 48 or train.height < weeks_of_history * 7 * 48:
            continue
        fc = forecast_week(train, monday, 30, params=params, special_days=us.HOLIDAYS_2003).rename({"contacts": "forecast"})
        rows.append(actual.join(fc.select("queue_id", "interval_start", "forecast"), on=["queue_id", "interval_start"]))
    both = pl.concat(rows)
    return len(rows), both.select(wape("contacts", "forecast")).item()


def main() -> None:
    if not LOG.is_file():
        print(f"bank log not found at {LOG}: skipped")
        return
    history = bank_history()
    weekly = history.group_by(pl.col("interval_start").dt.truncate("1w").alias("week")).agg(pl.col("contacts").sum()).sort("week")
    print("weekly offered contacts: " + ", ".join(f"{r['week']:%Y-%m-%d} {r['contacts']:,}" for r in weekly.iter_rows(named=True)))
    for label, params in (("before", BEFORE), ("after", None)):
        s = score(history, params)
        print(f"{label}: held-out week {HELD_OUT}: actual {s['week_actual']:,.0f}, forecast {s['week_forecast']:,.0f}")
        print(f"  site daily WAPE      {s['site_daily_wape']:.4f}  vs repeating last week {s['site_daily_wape_last_week']:.4f}")
        print(f"  queue daily WAPE     {s['daily_wape']:.4f}  vs repeating last week {s['daily_wape_last_week']:.4f}")
        print(f"  queue interval WAPE  {s['interval_wape']:.4f}  vs seasonal naive      {s['interval_wape_naive']:.4f}")
    print("US bank 2003, interval WAPE with short histories (last 20 weeks, each from the weeks just before it):")
    for n in (2, 3):
        k, before = us_bank_short(n, BEFORE)
        _, after = us_bank_short(n, None)
        print(f"  {n} weeks of history, {k} weeks forecast: before {before:.4f}, after {after:.4f}")


if __name__ == "__main__":
    main()
