"""Short histories (issue 14, point 6): the level follows a decline, the backtest says how
many weeks it evaluated and why not more, and the forecast warns when history is short."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from forecasts.backtest import backtest_weeks, explain_coverage
from forecasts.forecast import ForecastParams, effective_params, forecast_week, history_warnings
from test_forecast import MONDAY, expected_week, make_history


def test_two_falling_weeks_give_a_level_below_the_last_week():
    # week totals B then 0.9 B, same shape: pooled log slope ln 0.9 a week, damped by 0.5;
    # detrended levels 0.9 B x 0.9^0.5 (last week) and B x 0.9 (the week before); level = their median
    hist = make_history(2, week_factor=lambda w: 10 if w == 0 else 9)
    fc = forecast_week(hist, MONDAY + dt.timedelta(weeks=2), 60)
    week = 10 * sum(expected_week(60))
    assert fc["contacts"].sum() == pytest.approx(week * (0.9**1.5 + 0.9) / 2, abs=1e-3)
    assert fc["contacts"].sum() < 0.9 * week


def test_short_history_settings_follow_the_actual_weekly_totals():
    """A decline concentrated on two days: the week's total falls 12 %, the median polish
    sees a smaller week effect; the short-history level uses the actual totals."""
    base = make_history(2)
    drop = (pl.col("interval_start") >= dt.datetime.combine(MONDAY + dt.timedelta(weeks=1), dt.time())) & (pl.col("interval_start").dt.weekday() <= 2)
    hist = base.with_columns(pl.when(drop).then((pl.col("contacts") * 0.6).round()).otherwise(pl.col("contacts")).cast(pl.Int64).alias("contacts"))
    totals = hist.group_by(pl.col("interval_start").dt.week()).agg(pl.col("contacts").sum()).sort("interval_start")["contacts"].to_list()
    target = MONDAY + dt.timedelta(weeks=2)
    short = forecast_week(hist, target, 60)["contacts"].sum()
    polish = forecast_week(hist, target, 60, params=ForecastParams(week_level="polish", trend_scope="queue", trend_damping=0.5))["contacts"].sum()
    ratio_flat = forecast_week(hist, target, 60, params=ForecastParams(trend_damping=0.0))["contacts"].sum()
    # no trend: the level is the mean of the two actual totals
    assert ratio_flat == pytest.approx(sum(totals) / 2, abs=1e-3)  # output rounded to 1e-6 per interval
    assert short < totals[1] < polish


def test_short_history_switch_keeps_what_the_caller_set():
    p = effective_params(ForecastParams(), 2)
    assert (p.week_level, p.trend_scope, p.trend_damping) == ("ratio", "pooled", 0.5)
    assert effective_params(ForecastParams(), 3) == ForecastParams()
    mine = effective_params(ForecastParams(trend_damping=1.0), 2)
    assert (mine.week_level, mine.trend_scope, mine.trend_damping) == ("ratio", "pooled", 1.0)


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        (0, ["no history before 2024-03-04: every queue is forecast at 0 contacts"]),
        (1, ["only 1 week of history before 2024-03-11: no trend can be seen and every day shape rests on a single day; 12 weeks are used when available"]),
        (2, ["only 2 weeks of history before 2024-03-18 (the method uses up to 12): short-history settings used (week level = actual weekly totals, one trend for all queues, damping 0.5)"]),
        (5, ["5 weeks of history before 2024-04-08; the day-of-week and intraday shapes use up to 12, so they are noisier"]),
        (12, []),
    ],
)
def test_history_warnings_say_what_is_short(weeks, expected):
    hist = make_history(max(weeks, 1))
    assert history_warnings(hist, MONDAY + dt.timedelta(weeks=weeks), 60) == expected


def test_backtest_says_how_many_weeks_it_evaluated_and_why_not_more():
    hist = make_history(3)
    hist = hist.filter(pl.col("interval_start") != dt.datetime.combine(MONDAY + dt.timedelta(days=1), dt.time(10)))
    per_week = backtest_weeks(hist, 4, 60)
    assert explain_coverage(hist, 4, 60, per_week) == [
        "asked for 4 week(s), evaluated 1",
        "only 2 complete Monday-to-Sunday week(s) of the history (2024-03-04 to 2024-03-24) have a week of history before them to train on",
        "week 2024-03-11: 1 queue(s) not evaluated: 1 of 168 intervals of the week before missing (seasonal naive)",
    ]
