"""Tests of forecasts.forecast: the default weekly decomposition and forecast files."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasts.forecast import (
    FORECAST_SCHEMA,
    ForecastInputError,
    ForecastParams,
    forecast_week,
    read_forecast,
    seasonal_naive_week,
    validate_forecast,
)

MONDAY = dt.date(2024, 3, 4)
TARGET = MONDAY + dt.timedelta(weeks=6)


def pattern(interval_minutes: int) -> dict[tuple[int, int], int]:
    """Deterministic weekly pattern: contacts per (day-of-week, slot).

    Open 08:00-18:00 Monday to Saturday, closed on Sunday; the intraday shape and
    the day level differ by day of week.
    """
    slots = 1440 // interval_minutes
    out = {}
    for d in range(7):
        for s in range(slots):
            hour = s * interval_minutes / 60
            if d == 6 or not 8 <= hour < 18:
                out[d, s] = 0
            else:
                out[d, s] = (5 + (d * 7 + s * 3) % 17) * (3 if d == 0 else 2 if d < 5 else 1)
    return out


def make_history(
    weeks: int,
    interval_minutes: int = 60,
    *,
    start: dt.date = MONDAY,
    week_factor=lambda w: 1,
    queue: str = "voice/orders/en",
    aht: float = 240.0,
) -> pl.DataFrame:
    pat = pattern(interval_minutes)
    slots = 1440 // interval_minutes
    rows = []
    for w in range(weeks):
        for d in range(7):
            for s in range(slots):
                c = pat[d, s] * week_factor(w)
                rows.append(
                    (
                        queue,
                        dt.datetime.combine(start, dt.time(0))
                        + dt.timedelta(days=7 * w + d, minutes=s * interval_minutes),
                        c,
                        aht if c > 0 else None,
                    )
                )
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


def expected_week(interval_minutes: int, factor: float = 1.0) -> list[float]:
    pat = pattern(interval_minutes)
    slots = 1440 // interval_minutes
    return [pat[d, s] * factor for d in range(7) for s in range(slots)]


def assert_close(got, want, tol=1e-9):
    assert len(got) == len(want)
    worst = max((abs(g - w) for g, w in zip(got, want)), default=0.0)
    assert worst <= tol, f"max abs difference {worst}"


# --------------------------------------------------------------------------- method


def test_forecast_reproduces_deterministic_pattern_exactly():
    hist = make_history(6)
    fc = forecast_week(hist, TARGET, 60)
    assert_close(fc["contacts"].to_list(), expected_week(60))


def test_forecast_reproduces_pattern_at_30_minutes_with_two_queues():
    hist = pl.concat([make_history(4, 30), make_history(4, 30, queue="chat/returns/en")])
    fc = forecast_week(hist, MONDAY + dt.timedelta(weeks=4), 30)
    for q in ("chat/returns/en", "voice/orders/en"):
        assert_close(fc.filter(queue_id=q)["contacts"].to_list(), expected_week(30))


def test_forecast_ignores_history_from_the_target_week_onwards():
    hist = make_history(8)
    later = hist.filter(pl.col("interval_start") >= dt.datetime.combine(TARGET, dt.time(0)))
    doubled = pl.concat(
        [
            hist.filter(pl.col("interval_start") < dt.datetime.combine(TARGET, dt.time(0))),
            later.with_columns(pl.col("contacts") * 2),
        ]
    )
    fc = forecast_week(doubled, TARGET, 60)
    assert_close(fc["contacts"].to_list(), expected_week(60))


def test_holiday_in_training_weeks_does_not_poison_the_forecast():
    hist = make_history(6)
    holiday = MONDAY + dt.timedelta(weeks=4, days=2)  # a Wednesday closed
    hist = hist.with_columns(
        pl.when(pl.col("interval_start").dt.date() == holiday)
        .then(0)
        .otherwise(pl.col("contacts"))
        .alias("contacts")
    )
    fc = forecast_week(hist, TARGET, 60)
    assert_close(fc["contacts"].to_list(), expected_week(60))


def test_missing_day_in_training_is_unknown_not_zero():
    hist = make_history(6)
    gap = MONDAY + dt.timedelta(weeks=5, days=1)
    hist = hist.filter(pl.col("interval_start").dt.date() != gap)
    fc = forecast_week(hist, TARGET, 60)
    assert_close(fc["contacts"].to_list(), expected_week(60))


def test_forecast_aggregates_finer_history_to_the_interval():
    fc60 = forecast_week(make_history(6, 30), TARGET, 60)
    pat = pattern(30)
    want = [pat[d, 2 * s] + pat[d, 2 * s + 1] for d in range(7) for s in range(24)]
    assert_close(fc60["contacts"].to_list(), want)


@pytest.mark.parametrize("weeks_used", [4, 8])
def test_full_trend_damping_extrapolates_linear_trend(weeks_used):
    # weekly volume grows linearly: factor 10, 11, 12, ... ; next week is 10 + n.
    n = 10
    hist = make_history(n, week_factor=lambda w: 10 + w)
    params = ForecastParams(profile_weeks=weeks_used, level_weeks=3, trend_damping=1.0)
    fc = forecast_week(hist, MONDAY + dt.timedelta(weeks=n), 60, params=params)
    assert_close(fc["contacts"].to_list(), expected_week(60, 10 + n), tol=1e-7)


def test_trend_damping_moves_forecast_between_flat_and_linear():
    n = 10
    hist = make_history(n, week_factor=lambda w: 10 + w)
    target = MONDAY + dt.timedelta(weeks=n)
    totals = {
        damping: forecast_week(
            hist, target, 60, params=ForecastParams(level_weeks=4, trend_damping=damping)
        )["contacts"].sum()
        for damping in (0.0, 0.5, 1.0)
    }
    week = sum(expected_week(60))
    # flat: median of the last 4 weekly levels = factor (16 + 17 + 18 + 19) / 4 = 17.5
    assert totals[0.0] == pytest.approx(17.5 * week, rel=1e-9)
    assert totals[1.0] == pytest.approx(20 * week, rel=1e-9)
    assert totals[0.0] < totals[0.5] < totals[1.0]


def test_special_days_close_and_scale_days():
    hist = make_history(6)
    closed = TARGET + dt.timedelta(days=1)
    busy = TARGET + dt.timedelta(days=3)
    fc = forecast_week(hist, TARGET, 60, special_days={closed: 0.0, busy: 1.5})
    by_day = fc.group_by(pl.col("interval_start").dt.date().alias("d")).agg(pl.col("contacts").sum())
    totals = dict(by_day.iter_rows())
    pat = pattern(60)
    assert totals[closed] == 0.0
    assert totals[busy] == pytest.approx(1.5 * sum(pat[3, s] for s in range(24)), rel=1e-12)
    assert totals[TARGET] == pytest.approx(sum(pat[0, s] for s in range(24)), rel=1e-12)
    # AHT is kept on a closed day.
    assert fc.filter(pl.col("interval_start").dt.date() == closed)["aht_seconds"].min() > 0


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_special_days_reject_bad_multiplier(bad):
    with pytest.raises(ValueError, match="multiplier >= 0"):
        forecast_week(make_history(2), MONDAY + dt.timedelta(weeks=2), 60, special_days={TARGET: bad})


def test_aht_is_contact_weighted_per_interval_with_queue_mean_prior():
    t0 = dt.datetime.combine(MONDAY, dt.time(0))
    rows = [
        # (day offset, hour, contacts, aht)
        (0, 9, 10, 100.0),  # Monday 09:00
        (1, 9, 30, 200.0),  # Tuesday 09:00
        (0, 10, 20, 400.0),  # Monday 10:00
    ]
    grid = pl.datetime_range(t0, t0 + dt.timedelta(days=7, hours=-1), "1h", eager=True, time_unit="us")
    hist = (
        pl.DataFrame({"interval_start": grid})
        .join(
            pl.DataFrame(
                {
                    "interval_start": [t0 + dt.timedelta(days=d, hours=h) for d, h, _, _ in rows],
                    "contacts": [c for _, _, c, _ in rows],
                    "aht_seconds": [a for _, _, _, a in rows],
                },
                schema_overrides={"interval_start": pl.Datetime("us")},
            ),
            on="interval_start",
            how="left",
        )
        .with_columns(pl.lit("voice/x/en").alias("queue_id"), pl.col("contacts").fill_null(0))
    )
    target = MONDAY + dt.timedelta(weeks=1)
    t1 = dt.datetime.combine(target, dt.time(0))

    def aht_at(fc, days, hour):
        return fc.filter(pl.col("interval_start") == t1 + dt.timedelta(days=days, hours=hour))[
            "aht_seconds"
        ].item()

    # Without prior: 09:00 = (10*100 + 30*200) / 40 = 175; 10:00 = 400;
    # elsewhere the queue mean (1000 + 6000 + 8000) / 60 = 250.
    fc = forecast_week(hist, target, 60, params=ForecastParams(aht_prior_contacts=0.0))
    assert aht_at(fc, 0, 9) == pytest.approx(175.0)
    assert aht_at(fc, 3, 9) == pytest.approx(175.0)  # by interval of day, any day
    assert aht_at(fc, 0, 10) == pytest.approx(400.0)
    assert aht_at(fc, 6, 3) == pytest.approx(250.0)
    # With 10 prior contacts at the queue mean: (7000 + 2500) / 50 and (8000 + 2500) / 30.
    fc = forecast_week(hist, target, 60, params=ForecastParams(aht_prior_contacts=10.0))
    assert aht_at(fc, 0, 9) == pytest.approx(190.0)
    assert aht_at(fc, 0, 10) == pytest.approx(350.0)
    assert aht_at(fc, 2, 0) == pytest.approx(250.0)


def test_queue_without_contacts_gets_zero_contacts_and_default_aht():
    hist = make_history(3).with_columns(pl.lit(0).alias("contacts"), pl.lit(None, pl.Float64).alias("aht_seconds"))
    fc = forecast_week(hist, MONDAY + dt.timedelta(weeks=3), 60, params=ForecastParams(default_aht_seconds=321.0))
    assert fc["contacts"].max() == 0.0
    assert fc["aht_seconds"].unique().to_list() == [321.0]


def test_output_covers_every_interval_of_the_week_without_nulls():
    hist = pl.concat([make_history(3, 15), make_history(2, 15, queue="email/billing/es", start=MONDAY + dt.timedelta(weeks=1))])
    fc = forecast_week(hist, MONDAY + dt.timedelta(weeks=3), 15)
    assert dict(fc.schema) == FORECAST_SCHEMA
    assert fc.height == 2 * 7 * 96
    assert fc.null_count().sum_horizontal().item() == 0
    assert fc.select(pl.struct("queue_id", "interval_start").is_unique().all()).item()
    first = dt.datetime.combine(MONDAY + dt.timedelta(weeks=3), dt.time(0))
    for q in fc.partition_by("queue_id"):
        assert q["interval_start"].to_list() == [
            first + dt.timedelta(minutes=15 * i) for i in range(7 * 96)
        ]
    assert fc["contacts"].min() >= 0
    assert fc["aht_seconds"].min() > 0


def test_forecast_week_starts_on_any_weekday():
    """A Wednesday-start week: seven days from Wednesday 00:00; a start that is not 00:00 is refused."""
    wednesday = MONDAY + dt.timedelta(days=16)
    fc = forecast_week(make_history(2), wednesday, 60)
    per_queue = fc.group_by("queue_id").agg(pl.col("interval_start").min().alias("first"), pl.col("interval_start").max().alias("last"), pl.len().alias("n"))
    for first, last, n in per_queue.select("first", "last", "n").iter_rows():
        assert (first, last, n) == (dt.datetime.combine(wednesday, dt.time()), dt.datetime.combine(wednesday + dt.timedelta(days=6), dt.time(23)), 7 * 24)
    with pytest.raises(ValueError, match="must be a date at 00:00"):
        forecast_week(make_history(2), dt.datetime.combine(wednesday, dt.time(6)), 60)


@pytest.mark.parametrize("minutes", [0, 7, -30])
def test_forecast_rejects_interval_not_dividing_a_day(minutes):
    with pytest.raises(ValueError, match="dividing 1440"):
        forecast_week(make_history(2), TARGET, minutes)


def test_forecast_raises_typed_error_on_missing_history_column():
    with pytest.raises(ForecastInputError, match="missing column 'aht_seconds'"):
        forecast_week(make_history(2).drop("aht_seconds"), TARGET, 60)


def test_seasonal_naive_copies_last_week_and_leaves_gaps_null():
    hist = make_history(2)
    target = MONDAY + dt.timedelta(weeks=2)
    gap = dt.datetime.combine(MONDAY + dt.timedelta(weeks=1), dt.time(9))
    naive = seasonal_naive_week(hist.filter(pl.col("interval_start") != gap), target, 60)
    assert naive.height == 7 * 24
    assert naive["contacts"].null_count() == 1
    assert naive.filter(pl.col("interval_start") == gap + dt.timedelta(weeks=1))["contacts"].item() is None
    assert naive["contacts"].fill_null(pattern(60)[0, 9]).to_list() == expected_week(60)


def test_params_from_toml_reads_forecast_table(tmp_path):
    p = tmp_path / "site.toml"
    p.write_text("[forecast]\nprofile_weeks = 5\ntrend_damping = 0.25\n")
    params = ForecastParams.from_toml(p)
    assert (params.profile_weeks, params.trend_damping, params.level_weeks) == (5, 0.25, 6)


def test_params_reject_unknown_or_out_of_range_values():
    with pytest.raises(ValueError):
        ForecastParams(trend_damping=1.5)
    with pytest.raises(ValueError):
        ForecastParams(weeks=3)


# --------------------------------------------------------------------------- properties


@st.composite
def random_history(draw):
    weeks = draw(st.integers(2, 4))
    slots = 6  # 4-hour intervals keep the example small
    counts = draw(
        st.lists(st.integers(0, 60), min_size=weeks * 7 * slots, max_size=weeks * 7 * slots)
    )
    t0 = dt.datetime.combine(MONDAY, dt.time(0))
    return pl.DataFrame(
        {
            "queue_id": ["voice/a/en"] * len(counts),
            "interval_start": [t0 + dt.timedelta(hours=4 * i) for i in range(len(counts))],
            "contacts": counts,
            "aht_seconds": [200.0 + i % 7 if c > 0 else None for i, c in enumerate(counts)],
        },
        schema_overrides={"interval_start": pl.Datetime("us"), "contacts": pl.Int64},
    ), MONDAY + dt.timedelta(weeks=weeks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_history(), st.integers(2, 9))
def test_forecast_is_non_negative_and_scales_linearly_with_history(case, factor):
    hist, target = case
    fc = forecast_week(hist, target, 240)
    assert fc["contacts"].min() >= 0
    assert fc["aht_seconds"].min() > 0
    assert fc.null_count().sum_horizontal().item() == 0
    scaled = forecast_week(hist.with_columns(pl.col("contacts") * factor), target, 240)
    for a, b in zip(fc["contacts"].to_list(), scaled["contacts"].to_list()):
        assert b == pytest.approx(a * factor, rel=1e-9, abs=1e-6 * (1 + factor))


# --------------------------------------------------------------------------- files


def good_forecast() -> pl.DataFrame:
    return forecast_week(make_history(2), MONDAY + dt.timedelta(weeks=2), 60)


def test_read_forecast_round_trips_csv_and_parquet(tmp_path):
    fc = good_forecast()
    fc.write_csv(tmp_path / "f.csv")
    fc.write_parquet(tmp_path / "f.parquet")
    for name in ("f.csv", "f.parquet"):
        got = read_forecast(tmp_path / name, interval_minutes=60, week_start=MONDAY + dt.timedelta(weeks=2))
        assert dict(got.schema) == FORECAST_SCHEMA
        assert got.equals(fc)


BAD_CSV_CASES = {
    # file name after its defect: (row to corrupt (0-based data row), column, value, message parts)
    "negative_contacts": (3, "contacts", "-2", ["row 5", "'contacts'", "'-2'", "expected a number >= 0"]),
    "zero_aht": (0, "aht_seconds", "0", ["row 2", "'aht_seconds'", "'0'", "seconds > 0"]),
    "text_contacts": (7, "contacts", "many", ["row 9", "'contacts'", "'many'", "a number >= 0"]),
    "bad_timestamp": (1, "interval_start", "next tuesday", ["row 3", "'interval_start'", "'next tuesday'", "a date-time"]),
    "empty_queue": (2, "queue_id", "", ["row 4", "'queue_id'", "empty", "a queue id"]),
    "misaligned_interval": (4, "interval_start", "2024-03-18T04:10:00", ["row 6", "aligned to 60 minutes"]),
}


@pytest.mark.parametrize("defect", sorted(BAD_CSV_CASES))
def test_read_forecast_names_file_row_column_value_and_expectation(tmp_path, defect):
    row, col, value, parts = BAD_CSV_CASES[defect]
    fc = good_forecast().with_columns(pl.all().cast(pl.String))
    fc = fc.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(col)).alias(col)
    )
    path = tmp_path / f"{defect}.csv"
    fc.write_csv(path)
    with pytest.raises(ForecastInputError) as err:
        read_forecast(path, interval_minutes=60)
    msg = str(err.value)
    assert str(path) in msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"


def test_read_forecast_collects_every_error(tmp_path):
    fc = good_forecast().with_columns(pl.lit(-1.0).alias("contacts"))
    path = tmp_path / "all_negative.csv"
    fc.write_csv(path)
    with pytest.raises(ForecastInputError) as err:
        read_forecast(path)
    assert len(err.value.errors) == 20
    assert "more errors not shown" in str(err.value)


def test_read_forecast_reports_missing_column(tmp_path):
    path = tmp_path / "no_aht.csv"
    good_forecast().drop("aht_seconds").write_csv(path)
    with pytest.raises(ForecastInputError, match=r"(?s)no_aht.csv.*missing column 'aht_seconds'"):
        read_forecast(path)


def test_read_forecast_reports_duplicate_and_missing_intervals(tmp_path):
    fc = good_forecast()
    dup = pl.concat([fc.head(5), fc.slice(3, 1), fc.slice(6)])  # row 6 repeats row 4, row 6 of original dropped
    path = tmp_path / "duplicate_interval.parquet"
    dup.write_parquet(path)
    with pytest.raises(ForecastInputError, match=r"(?s)row 6, column 'interval_start'.*repeats") as err:
        read_forecast(path, interval_minutes=60, week_start=MONDAY + dt.timedelta(weeks=2))
    assert str(path) in str(err.value)
    hole = fc.filter(pl.int_range(pl.len()) != 10)
    path = tmp_path / "missing_interval.csv"
    hole.write_csv(path)
    with pytest.raises(ForecastInputError, match="no row for interval 2024-03-18 10:00:00"):
        read_forecast(path, interval_minutes=60, week_start=MONDAY + dt.timedelta(weeks=2))


def test_read_forecast_rejects_unknown_file_type(tmp_path):
    path = tmp_path / "forecast.xlsx"
    path.write_text("x")
    with pytest.raises(ForecastInputError, match=r"(?s)forecast.xlsx.*unsupported file type '.xlsx'"):
        read_forecast(path)


def test_validate_forecast_returns_frame_for_chaining():
    fc = good_forecast()
    assert validate_forecast(fc).equals(fc)


@pytest.mark.parametrize(
    "params",
    [ForecastParams(interval_smoothing=0.25), ForecastParams(day_pooling=0.5)],
    ids=["interval_smoothing", "day_pooling"],
)
def test_shape_smoothing_keeps_day_totals_and_closed_intervals(params):
    hist = make_history(6)
    fc = forecast_week(hist, TARGET, 60, params=params).with_columns(
        pl.col("interval_start").dt.date().alias("d")
    )
    want = expected_week(60)
    got = fc["contacts"].to_list()
    assert all(g == 0.0 for g, w in zip(got, want) if w == 0)  # nothing leaks into closed
    assert got != pytest.approx(want)  # the shape did change
    totals = fc.group_by("d", maintain_order=True).agg(pl.col("contacts").sum())["contacts"]
    pat = pattern(60)
    assert totals.to_list() == pytest.approx([sum(pat[d, s] for s in range(24)) for d in range(7)])


def test_forecast_is_identical_from_run_to_run(demo_site):
    """Same history, same forecast to the last bit (parallel float sums are rounded away)."""
    from staffing.site import load_site

    site = load_site(demo_site)
    hist = site.history.select("queue_id", "interval_start", "contacts", "aht_seconds")
    week = site.plan_week()
    first = forecast_week(hist, week, 30)
    for _ in range(3):
        assert forecast_week(hist, week, 30).equals(first)
