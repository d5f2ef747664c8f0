"""Tests of forecasts.backtest: WAPE, seasonal naive, noise floor, evaluability."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import polars as pl
import pytest

from forecasts.backtest import backtest, backtest_weeks, noise_floor, target_weeks, wape

MONDAY = dt.date(2024, 3, 4)
P = [10, 20, 30, 40, 50, 5, 0]  # daily contacts Monday..Sunday (Sunday closed)
REPO = Path(__file__).resolve().parents[1]
BANK = REPO.parent / "shared" / "data" / "us_bank_calls_5min_2003.csv"


def daily_history(weeks: list[list[int]], queue: str = "voice/orders/en") -> pl.DataFrame:
    """History with one interval per day (interval_minutes = 1440)."""
    t0 = dt.datetime.combine(MONDAY, dt.time(0))
    rows = [
        (queue, t0 + dt.timedelta(days=7 * w + d), c, 180.0 if c > 0 else None)
        for w, week in enumerate(weeks)
        for d, c in enumerate(week)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "queue_id": pl.String,
            "interval_start": pl.Datetime("us"),
            "contacts": pl.Int64,
            "aht_seconds": pl.Float64,
        },
        orient="row",
    )


HOLIDAY_WEEK = [10, 20, 0, 40, 50, 5, 0]  # Wednesday closed
LAST_WEEK = [12, 18, 30, 40, 50, 5, 0]
TINY = [P, P, HOLIDAY_WEEK, LAST_WEEK]


def floor_sum(values):
    return sum(math.sqrt(2 * v / math.pi) for v in values)


def test_wape_and_noise_floor_expressions_hand_checked():
    df = pl.DataFrame({"a": [100.0, 50.0, 0.0], "f": [90.0, 60.0, 5.0]})
    got = df.select(wape("a", "f").alias("w"), noise_floor("a").alias("n")).row(0)
    assert got[0] == pytest.approx((10 + 10 + 5) / 150)
    # sqrt(2*100/pi) + sqrt(2*50/pi) = 7.9788 + 5.6419 = 13.6207; / 150 = 0.090805
    assert got[1] == pytest.approx((math.sqrt(200 / math.pi) + math.sqrt(100 / math.pi)) / 150)
    assert got[1] == pytest.approx(0.090805, abs=1e-6)
    zero = pl.DataFrame({"a": [0.0], "f": [1.0]}).select(
        wape("a", "f").alias("w"), noise_floor("a").alias("n")
    )
    assert zero.row(0) == (None, None)


def test_noise_floor_matches_poisson_relative_error_for_constant_lambda():
    lam = 400.0
    df = pl.DataFrame({"a": [lam] * 10})
    assert df.select(noise_floor("a")).item() == pytest.approx(math.sqrt(2 / (math.pi * lam)))


def test_backtest_last_week_hand_computed():
    out = backtest(daily_history(TINY), 1, 1440)
    row = out.filter(queue_id="voice/orders/en").row(0, named=True)
    # Method: the holiday Wednesday drops out of the robust fit, so the forecast is P:
    # |12 - 10| + |18 - 20| = 4 over 155 actual contacts.
    assert row["wape"] == pytest.approx(4 / 155, rel=1e-9)
    # Seasonal naive copies the holiday week: 2 + 2 + 30 = 34.
    assert row["wape_seasonal_naive"] == pytest.approx(34 / 155, rel=1e-9)
    assert row["noise_floor"] == pytest.approx(floor_sum(LAST_WEEK) / 155, rel=1e-9)
    assert row["ratio_to_naive"] == pytest.approx(4 / 34, rel=1e-9)
    assert row["ratio_to_floor"] == pytest.approx(4 / floor_sum(LAST_WEEK), rel=1e-9)
    assert (row["weeks_evaluated"], row["weeks_not_evaluable"]) == (1, 0)


def test_backtest_pools_weeks_by_summing_errors_and_actuals():
    out = backtest(daily_history(TINY), 2, 1440).filter(queue_id="ALL").row(0, named=True)
    # Holiday week: forecast P from two clean weeks (error 30), naive = P (error 30).
    assert out["weeks_evaluated"] == 2
    assert out["actual"] == 155 + 125
    assert out["wape"] == pytest.approx((4 + 30) / 280, rel=1e-9)
    assert out["wape_seasonal_naive"] == pytest.approx((34 + 30) / 280, rel=1e-9)
    assert out["noise_floor"] == pytest.approx(
        (floor_sum(LAST_WEEK) + floor_sum(HOLIDAY_WEEK)) / 280, rel=1e-9
    )


def test_backtest_all_row_pools_queues():
    hist = pl.concat([daily_history(TINY), daily_history([P, P, P, [20, 20, 30, 40, 50, 5, 0]], "chat/x/en")])
    out = backtest(hist, 1, 1440)
    assert out["queue_id"].to_list() == ["chat/x/en", "voice/orders/en", "ALL"]
    pooled = out.filter(queue_id="ALL").row(0, named=True)
    assert pooled["wape"] == pytest.approx((10 + 4) / (165 + 155), rel=1e-9)
    assert pooled["wape_seasonal_naive"] == pytest.approx((10 + 34) / (165 + 155), rel=1e-9)


def test_week_with_missing_interval_is_not_evaluable():
    hist = daily_history(TINY)
    gap = dt.datetime.combine(MONDAY + dt.timedelta(weeks=3, days=4), dt.time(0))
    per_week = backtest_weeks(hist.filter(pl.col("interval_start") != gap), 2, 1440)
    last = per_week.filter(pl.col("week_start") == MONDAY + dt.timedelta(weeks=3)).row(0, named=True)
    assert last["evaluable"] is False
    assert last["not_evaluable_reason"] == "1 of 7 intervals missing"
    assert last["wape"] is None
    summary = backtest(hist.filter(pl.col("interval_start") != gap), 2, 1440).filter(queue_id="ALL")
    assert summary.select("weeks_evaluated", "weeks_not_evaluable").row(0) == (1, 1)
    assert summary["wape"].item() == pytest.approx(30 / 125)


def test_week_after_a_gap_is_not_evaluable_for_seasonal_naive():
    hist = daily_history(TINY)
    gap = dt.datetime.combine(MONDAY + dt.timedelta(weeks=2, days=1), dt.time(0))
    row = backtest_weeks(hist.filter(pl.col("interval_start") != gap), 1, 1440).row(0, named=True)
    assert row["evaluable"] is False
    assert "week before missing (seasonal naive)" in row["not_evaluable_reason"]


def test_special_days_apply_to_method_and_naive():
    hist = daily_history([P, P, P, [10, 20, 30, 0, 50, 5, 0]])
    closed = MONDAY + dt.timedelta(weeks=3, days=3)
    row = backtest(hist, 1, 1440, special_days={closed: 0.0}).row(0, named=True)
    assert row["wape"] == pytest.approx(0.0, abs=1e-12)
    assert row["wape_seasonal_naive"] == pytest.approx(0.0, abs=1e-12)


def test_target_weeks_are_complete_calendar_weeks_with_earlier_history():
    hist = daily_history(TINY)
    # Drop the final Sunday: the last week is then incomplete in the history span.
    short = hist.filter(pl.col("interval_start") < dt.datetime.combine(MONDAY + dt.timedelta(weeks=4, days=-1), dt.time(0)))
    assert target_weeks(hist, 10, 1440) == [MONDAY + dt.timedelta(weeks=w) for w in (1, 2, 3)]
    assert target_weeks(short, 10, 1440) == [MONDAY + dt.timedelta(weeks=w) for w in (1, 2)]
    with pytest.raises(ValueError, match="weeks must be >= 1"):
        target_weeks(hist, 0, 1440)


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(not BANK.is_file(), reason=f"bank data not found at {BANK}")
def test_bank_data_beats_seasonal_naive_on_held_out_weeks():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_forecast_bank import HOLIDAYS_2003, bank_history

    hist = bank_history(30)
    out = backtest(hist, 10, 30, special_days=HOLIDAYS_2003).filter(queue_id="ALL").row(0, named=True)
    assert out["weeks_evaluated"] == 8
    assert out["weeks_not_evaluable"] == 2  # 2003-10-14 is missing from the file
    # Target met: at most 0.85 x seasonal naive (measured 0.54).
    assert out["ratio_to_naive"] <= 0.85
    # The 1.15 x noise-floor target is not reachable week-ahead on this data: day totals
    # vary far beyond Poisson (see docs/forecasting.md). Guard against regressions
    # from the measured 2.60 x instead.
    assert out["ratio_to_floor"] <= 2.8
    assert 0.02 < out["noise_floor"] < 0.025
