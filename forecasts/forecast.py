"""Interval forecasting of offered contacts and handle time for one target week.

The default method is a robust multiplicative decomposition, vectorised in Polars:

    contacts(queue, day d, interval t) = level x day_share(d) x intraday_share(d, t)
                                         x special_day_multiplier(date)

* day totals of the last ``profile_weeks`` weeks are split into a week effect and a
  day-of-week effect by a median polish on log totals (robust to holidays, closed days
  and data gaps: a zero or missing day simply drops out of the medians);
* the weekly level is the median of the week effects of the last ``level_weeks``
  weeks after removing a Theil-Sen trend, and the trend is extrapolated to the target
  week shrunk by ``trend_damping`` (0 = flat, 1 = full linear extrapolation);
* the intraday share per day-of-week is an exponentially weighted mean over weeks of
  each day's share of its day total (days whose total is far from the polish fit are
  left out), optionally pooled across open days of week and smoothed across
  neighbouring intervals;
* AHT is a contact-weighted profile per interval of the day over the last
  ``aht_weeks`` weeks, shrunk towards the queue mean by ``aht_prior_contacts``.

See ``docs/forecasting.md`` for the method, its parameters and measured accuracy.
The tables follow ``docs/contracts.md`` (``history`` in, ``forecast`` out).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FORECAST_SCHEMA",
    "ForecastInputError",
    "effective_params",
    "history_warnings",
    "ForecastParams",
    "forecast_week",
    "read_forecast",
    "seasonal_naive_week",
    "validate_forecast",
]

FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "queue_id": pl.String(),
    "interval_start": pl.Datetime("us"),
    "contacts": pl.Float64(),
    "aht_seconds": pl.Float64(),
}

_MAX_ERRORS = 20
_HISTORY_COLUMNS = ("queue_id", "interval_start", "contacts", "aht_seconds")


#: Decimals kept in the forecast: far below one contact or one second, far above float noise.
OUTPUT_DECIMALS = 6


class ForecastInputError(ValueError):
    """A history frame or a user-supplied forecast file does not follow the contract.

    ``errors`` lists every problem found (capped), each naming where it is.
    """

    def __init__(self, source: str, errors: list[str], *, truncated: bool = False):
        self.source = source
        self.errors = list(errors)
        more = "\n  ... more errors not shown" if truncated else ""
        lines = "\n  ".join(self.errors)
        super().__init__(f"{source}: {len(self.errors)} problem(s):\n  {lines}{more}")


class ForecastParams(BaseModel):
    """Parameters of the default forecasting method, with their defaults in one place.

    Tuned by rolling-origin backtests on real call arrivals (see docs/forecasting.md).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_weeks: int = Field(
        12,
        ge=1,
        le=104,
        description="weeks of history used for day-of-week and intraday shares and the trend",
    )
    level_weeks: int = Field(
        6, ge=1, le=104, description="most recent weeks whose detrended level is averaged"
    )
    trend_damping: float = Field(
        0.5, ge=0.0, le=1.0, description="share of the fitted weekly slope extrapolated (0 = flat)"
    )
    trend_scope: Literal["queue", "pooled"] = Field(
        "queue",
        description="'queue': each queue's own Theil-Sen slope (additive); 'pooled': one relative "
        "(log) slope fitted on the sum of all queues' week levels, applied to every queue "
        "multiplicatively (steadier for short, noisy histories of small queues)",
    )
    week_level: Literal["polish", "ratio"] = Field(
        "polish",
        description="'polish': a week's level is exp(week effect of the median polish) x sum of "
        "day effects; 'ratio': the sum of the week's usable day totals / the sum of their day "
        "shares (follows the actual weekly totals)",
    )
    short_history_weeks: int = Field(
        3,
        ge=1,
        le=104,
        description="with fewer weeks of history than this, the short-history settings are used "
        "(week_level 'ratio', trend_scope 'pooled', trend_damping short_history_trend_damping)",
    )
    short_history_trend_damping: float = Field(
        0.5, ge=0.0, le=1.0, description="trend_damping used with a short history"
    )
    level_halflife_weeks: float | None = Field(
        None,
        gt=0.0,
        description="None: the level is the median of the detrended week levels; a number: their "
        "exponentially weighted mean with this half-life (recency weighting)",
    )
    polish_iterations: int = Field(4, ge=1, le=50, description="median polish sweeps")
    profile_halflife_weeks: float = Field(
        8.0, gt=0.0, description="half-life in weeks of the exponential weights of intraday shares"
    )
    outlier_tolerance: float = Field(
        0.25,
        gt=0.0,
        description="days whose total is off the polish fit by more than this relative amount "
        "(holidays, outages) are left out of the intraday shares",
    )
    day_pooling: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="weight of the all-days intraday shape blended into each day-of-week shape",
    )
    interval_smoothing: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="weight of each open neighbouring interval in the intraday smoothing",
    )
    aht_weeks: int = Field(8, ge=1, le=104, description="weeks of history used for AHT")
    aht_prior_contacts: float = Field(
        10.0,
        ge=0.0,
        description="pseudo-contacts at the queue mean AHT added to each interval-of-day AHT",
    )
    default_aht_seconds: float = Field(
        300.0, gt=0.0, description="AHT used for a queue with no handled contacts at all"
    )

    @classmethod
    def from_toml(cls, path: str | Path, table: str | None = "forecast") -> "ForecastParams":
        """Read parameters from a TOML file (from ``[table]`` when given and present)."""
        with open(path, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
        if table is not None and isinstance(data.get(table), dict):
            data = data[table]
        return cls(**data)


# --------------------------------------------------------------------------- history


def _check_interval(interval_minutes: int) -> None:
    if not isinstance(interval_minutes, int) or interval_minutes <= 0 or 1440 % interval_minutes:
        raise ValueError(
            f"interval_minutes must be a positive integer dividing 1440, got {interval_minutes!r}"
        )


def _check_week_start(week_start: dt.date) -> dt.datetime:
    """00:00 of the week's first day. A week may start on any weekday (the site's
    `week_start`, forecasts.weeks); the forecast covers the seven days from it."""
    if isinstance(week_start, dt.datetime):
        if week_start.time() != dt.time(0):
            raise ValueError(f"week_start must be a date at 00:00, got {week_start}")
        week_start = week_start.date()
    return dt.datetime.combine(week_start, dt.time(0))


def _prepare_history(history: pl.DataFrame, interval_minutes: int) -> pl.DataFrame:
    """Check columns, align to ``interval_minutes`` (summing finer rows), type columns."""
    missing = [c for c in _HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ForecastInputError(
            "history", [f"missing column {c!r} (expected {', '.join(_HISTORY_COLUMNS)})" for c in missing]
        )
    h = history.select(
        pl.col("queue_id").cast(pl.String),
        pl.col("interval_start").cast(pl.Datetime("us")).dt.truncate(f"{interval_minutes}m"),
        pl.col("contacts").cast(pl.Float64),
        pl.col("aht_seconds").cast(pl.Float64),
    )
    bad = h.filter(
        pl.col("queue_id").is_null()
        | pl.col("interval_start").is_null()
        | pl.col("contacts").is_null()
        | (pl.col("contacts") < 0)
        | ~pl.col("contacts").is_finite()
    )
    if bad.height:
        raise ForecastInputError(
            "history",
            [
                f"{bad.height} row(s) with null queue_id/interval_start or contacts null, "
                "negative or not finite (expected contacts >= 0)"
            ],
        )
    return h.group_by("queue_id", "interval_start").agg(
        pl.col("contacts").sum(),
        # contact-weighted AHT of the (possibly finer) rows in the interval
        (
            (pl.col("contacts") * pl.col("aht_seconds")).filter(
                (pl.col("contacts") > 0) & (pl.col("aht_seconds") > 0)
            ).sum()
            / pl.col("contacts").filter((pl.col("contacts") > 0) & (pl.col("aht_seconds") > 0)).sum()
        ).alias("aht_seconds"),
    )


def _with_calendar(h: pl.DataFrame, start: dt.datetime, interval_minutes: int) -> pl.DataFrame:
    """Add ``k`` (weeks before ``start``, 1 = the week just before), ``dow`` and ``slot``."""
    ts = pl.col("interval_start")
    minutes_before = (pl.lit(start) - ts).dt.total_minutes()
    return h.with_columns(
        ((minutes_before - 1) // (7 * 1440) + 1).cast(pl.Int32).alias("k"),
        (ts.dt.weekday() - 1).cast(pl.Int32).alias("dow"),
        ((ts.dt.hour().cast(pl.Int32) * 60 + ts.dt.minute().cast(pl.Int32)) // interval_minutes)
        .cast(pl.Int32)
        .alias("slot"),
    )


def history_weeks(train: pl.DataFrame) -> int:
    """Weeks before the target with any history (``train`` carries ``k``)."""
    return int(train.filter(pl.col("k") >= 1).get_column("k").n_unique()) if train.height else 0


#: Settings that ``short_history_weeks`` switches to (unless the caller set them).
SHORT_HISTORY_FIELDS = ("week_level", "trend_scope", "trend_damping")


def effective_params(params: ForecastParams, weeks: int) -> ForecastParams:
    """The parameters actually used with ``weeks`` weeks of history.

    With fewer than ``short_history_weeks`` weeks, a week's level is its actual total
    (``week_level = "ratio"``) and one trend is fitted on all queues together
    (``trend_scope = "pooled"``, damped by ``short_history_trend_damping``): a median
    polish over two or three weeks misses a clear decline, and one queue's slope over so
    few weeks is mostly noise. Fields the caller set explicitly are kept."""
    if weeks >= params.short_history_weeks:
        return params
    update = {"week_level": "ratio", "trend_scope": "pooled", "trend_damping": params.short_history_trend_damping}
    return params.model_copy(update={k: v for k, v in update.items() if k not in params.model_fields_set})


def history_warnings(history: pl.DataFrame, week_start: dt.date, interval_minutes: int, params: ForecastParams | None = None) -> list[str]:
    """Plain-language warnings when the history before ``week_start`` is shorter than the
    method needs (an empty list when it is long enough)."""
    params = params or ForecastParams()
    start = _check_week_start(week_start)
    hist = _prepare_history(history, interval_minutes)
    train = _with_calendar(hist.filter(pl.col("interval_start") < start), start, interval_minutes)
    weeks = history_weeks(train.filter(pl.col("k") <= params.profile_weeks))
    out = []
    if weeks == 0:
        out.append(f"no history before {start.date()}: every queue is forecast at 0 contacts")
    elif weeks == 1:
        out.append(f"only 1 week of history before {start.date()}: no trend can be seen and every day shape rests on a single day; {params.profile_weeks} weeks are used when available")
    elif weeks < params.short_history_weeks:
        out.append(
            f"only {weeks} weeks of history before {start.date()} (the method uses up to {params.profile_weeks}): "
            f"short-history settings used (week level = actual weekly totals, one trend for all queues, damping {params.short_history_trend_damping:g})"
        )
    elif weeks < params.profile_weeks:
        out.append(f"{weeks} weeks of history before {start.date()}; the day-of-week and intraday shapes use up to {params.profile_weeks}, so they are noisier")
    return out


# --------------------------------------------------------------------------- components


def _day_table(train: pl.DataFrame, slots_per_day: int) -> pl.DataFrame:
    """Day totals with a completeness flag (every interval of the day present)."""
    return train.group_by("queue_id", "k", "dow").agg(
        pl.col("contacts").sum().alias("day_total"),
        (pl.len() == slots_per_day).alias("complete"),
    )


def _median_polish(days: pl.DataFrame, iterations: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split log day totals into week effects ``a`` and day-of-week effects ``b``.

    Returns (weeks: queue_id, k, a) and (dows: queue_id, dow, b, open). Only complete
    days with a positive total of an open day-of-week enter the polish; a day-of-week is
    open when the median of its complete day totals is positive.
    """
    opened = (
        days.filter("complete")
        .group_by("queue_id", "dow")
        .agg((pl.col("day_total").median() > 0).alias("open"))
    )
    y = (
        days.filter(pl.col("complete") & (pl.col("day_total") > 0))
        .join(opened.filter("open"), on=["queue_id", "dow"])
        .select("queue_id", "k", "dow", pl.col("day_total").log().alias("y"))
    )
    b = y.group_by("queue_id", "dow").agg(pl.col("y").median().alias("b"))
    a = pl.DataFrame(schema={"queue_id": pl.String, "k": pl.Int32, "a": pl.Float64})
    for _ in range(iterations):
        a = (
            y.join(b, on=["queue_id", "dow"])
            .group_by("queue_id", "k")
            .agg((pl.col("y") - pl.col("b")).median().alias("a"))
        )
        b = (
            y.join(a, on=["queue_id", "k"])
            .group_by("queue_id", "dow")
            .agg((pl.col("y") - pl.col("a")).median().alias("b"))
        )
    dows = opened.join(b, on=["queue_id", "dow"], how="left")
    return a, dows


def _theil_sen(weeks: pl.DataFrame, value: str, by: str) -> pl.DataFrame:
    """Theil-Sen slope per week of ``value`` against time t = -k, per ``by``."""
    return (
        weeks.join(weeks, on=by, suffix="_j")
        .filter(pl.col("k") < pl.col("k_j"))
        .group_by(by)
        .agg(
            # t_i - t_j = k_j - k_i > 0
            ((pl.col(value) - pl.col(f"{value}_j")) / (pl.col("k_j") - pl.col("k"))).median().alias("slope")
        )
    )


def _weekly_level(weeks: pl.DataFrame, params: ForecastParams) -> pl.DataFrame:
    """Level of the target week per queue from week levels ``L`` (queue_id, k, L).

    Trend (``trend_scope``): 'queue' = Theil-Sen slope of each queue's L over all weeks
    given (time t = -k), shrunk by ``trend_damping``, detrended L_k + slope x k;
    'pooled' = Theil-Sen slope of log(sum over queues of L_k), shrunk, detrended
    L_k x exp(slope x k). Level = median (or, with ``level_halflife_weeks``, the
    exponentially weighted mean) over the last ``level_weeks`` weeks of the detrended
    week levels, i.e. the level carried to the target week (t = 0).
    """
    if params.trend_scope == "pooled":
        total = weeks.group_by("k").agg(pl.col("L").sum().log().alias("logL"), pl.len().alias("n"))
        # only weeks in which every queue has a level, so a queue's absence is no trend
        total = total.filter(pl.col("n") == weeks.get_column("queue_id").n_unique()).with_columns(pl.lit(0).alias("_all"))
        slope = _theil_sen(total, "logL", "_all").get_column("slope")
        s = float(slope[0]) if len(slope) and slope[0] is not None else 0.0
        detrended = weeks.with_columns((pl.col("L") * (s * params.trend_damping * pl.col("k")).exp()).alias("D"))
    else:
        detrended = weeks.join(_theil_sen(weeks, "L", "queue_id"), on="queue_id", how="left").with_columns(
            (pl.col("L") + pl.col("slope").fill_null(0.0) * params.trend_damping * pl.col("k")).alias("D")
        )
    recent = detrended.filter(pl.col("k") <= params.level_weeks)
    if params.level_halflife_weeks is None:
        level = pl.col("D").median()
    else:
        w = (-(pl.col("k") - 1).cast(pl.Float64) * math.log(2.0) / params.level_halflife_weeks).exp()
        level = (pl.col("D") * w).sum() / w.sum()
    return recent.group_by("queue_id").agg(level.alias("level")).with_columns(pl.col("level").clip(lower_bound=0.0))


def _usable_days(days: pl.DataFrame, fitted: pl.DataFrame, params: ForecastParams) -> pl.DataFrame:
    """Complete days with contacts whose total is within ``outlier_tolerance`` of the polish fit."""
    tol = math.log1p(params.outlier_tolerance)
    return (
        days.filter(pl.col("complete") & (pl.col("day_total") > 0))
        .join(fitted, on=["queue_id", "k", "dow"])
        .filter((pl.col("day_total").log() - pl.col("fit")).abs() <= tol)
        .select("queue_id", "k", "dow", "day_total")
    )


def _ratio_week_levels(days: pl.DataFrame, dows: pl.DataFrame) -> pl.DataFrame:
    """Week levels L_k = sum of the week's complete day totals / sum of those days' day
    shares: the week's actual total when every day is complete, scaled up for missing days.
    Unlike the polish (and the intraday shapes) no day is left out as an outlier: over two
    or three weeks the fit cannot tell an outlier from the change to follow."""
    return (
        days.filter(pl.col("complete") & (pl.col("day_total") > 0))
        .join(dows.select("queue_id", "dow", "day_share"), on=["queue_id", "dow"])
        .group_by("queue_id", "k")
        .agg((pl.col("day_total").sum() / pl.col("day_share").sum()).alias("L"))
        .filter(pl.col("L").is_finite())
    )


def _intraday_shares(
    train: pl.DataFrame,
    days: pl.DataFrame,
    fitted: pl.DataFrame,
    params: ForecastParams,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Intraday shares per (queue_id, dow, slot), summing to 1 over each open day, and the
    pooled all-days shape per (queue_id, slot) used as a fallback."""
    usable = _usable_days(days, fitted, params)
    decay = math.log(2.0) / params.profile_halflife_weeks
    per_day = (
        train.join(usable, on=["queue_id", "k", "dow"])
        .with_columns(
            (pl.col("contacts") / pl.col("day_total")).alias("p"),
            (-(pl.col("k") - 1).cast(pl.Float64) * decay).exp().alias("w"),
        )
    )
    by_dow = per_day.group_by("queue_id", "dow", "slot").agg(
        ((pl.col("p") * pl.col("w")).sum() / pl.col("w").sum()).alias("p_dow"),
        pl.col("w").sum().alias("w_sum"),
    )
    pooled = by_dow.group_by("queue_id", "slot").agg(
        ((pl.col("p_dow") * pl.col("w_sum")).sum() / pl.col("w_sum").sum()).alias("p_all")
    )
    beta = params.day_pooling
    shares = by_dow.join(pooled, on=["queue_id", "slot"], how="left").with_columns(
        pl.when(pl.col("p_dow") > 0)
        .then((1.0 - beta) * pl.col("p_dow") + beta * pl.col("p_all"))
        .otherwise(0.0)
        .alias("p")
    )
    w = params.interval_smoothing
    if w > 0:
        # Smooth among open intervals only: volume never leaks into a closed interval.
        shares = shares.sort("queue_id", "dow", "slot")
        over = ["queue_id", "dow"]
        prev = pl.col("p").shift(1).over(over)
        nxt = pl.col("p").shift(-1).over(over)
        prev_ok = (pl.col("slot").shift(1).over(over) == pl.col("slot") - 1) & (prev > 0)
        next_ok = (pl.col("slot").shift(-1).over(over) == pl.col("slot") + 1) & (nxt > 0)
        num = pl.col("p") + w * (
            pl.when(prev_ok).then(prev).otherwise(0.0) + pl.when(next_ok).then(nxt).otherwise(0.0)
        )
        den = 1.0 + w * (prev_ok.cast(pl.Float64) + next_ok.cast(pl.Float64))
        shares = shares.with_columns(
            pl.when(pl.col("p") > 0).then(num / den).otherwise(0.0).alias("p")
        )
    shares = shares.with_columns(pl.col("p") / pl.col("p").sum().over("queue_id", "dow"))
    # A day-of-week without any usable day falls back to the pooled shape.
    pooled_shape = pooled.with_columns(
        (pl.col("p_all") / pl.col("p_all").sum().over("queue_id")).alias("p_pooled")
    ).select("queue_id", "slot", "p_pooled")
    return shares.select("queue_id", "dow", "slot", pl.col("p").fill_nan(None)), pooled_shape


def _aht_profile(
    train: pl.DataFrame, all_hist: pl.DataFrame, params: ForecastParams
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Contact-weighted AHT sums: recent queue mean, all-history queue mean, and per
    (queue_id, slot) sums ``ca`` (contacts x AHT) and ``c`` (contacts) of recent weeks."""
    handled = (pl.col("contacts") > 0) & (pl.col("aht_seconds") > 0)
    recent = train.filter((pl.col("k") <= params.aht_weeks) & handled)
    queue_mean = recent.group_by("queue_id").agg(
        ((pl.col("contacts") * pl.col("aht_seconds")).sum() / pl.col("contacts").sum()).alias("q_recent")
    )
    queue_all = all_hist.filter(handled).group_by("queue_id").agg(
        ((pl.col("contacts") * pl.col("aht_seconds")).sum() / pl.col("contacts").sum()).alias("q_all")
    )
    by_slot = recent.group_by("queue_id", "slot").agg(
        (pl.col("contacts") * pl.col("aht_seconds")).sum().alias("ca"),
        pl.col("contacts").sum().alias("c"),
    )
    return queue_mean, queue_all, by_slot


# --------------------------------------------------------------------------- public API


def _week_grid(queues: pl.Series, start: dt.datetime, interval_minutes: int) -> pl.DataFrame:
    times = pl.datetime_range(
        start,
        start + dt.timedelta(days=7) - dt.timedelta(minutes=interval_minutes),
        interval=f"{interval_minutes}m",
        time_unit="us",
        eager=True,
    ).alias("interval_start")
    return (
        pl.DataFrame({"queue_id": queues.unique().sort()})
        .join(times.to_frame(), how="cross")
        .with_columns(
            (pl.col("interval_start").dt.weekday() - 1).cast(pl.Int32).alias("dow"),
            (
                (
                    pl.col("interval_start").dt.hour().cast(pl.Int32) * 60
                    + pl.col("interval_start").dt.minute().cast(pl.Int32)
                )
                // interval_minutes
            )
            .cast(pl.Int32)
            .alias("slot"),
            pl.col("interval_start").dt.date().alias("date"),
        )
    )


def _special_frame(special_days: dict[dt.date, float] | None) -> pl.DataFrame:
    special_days = special_days or {}
    for day, mult in special_days.items():
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise ValueError(f"special_days keys must be dates, got {day!r}")
        if not (isinstance(mult, (int, float)) and math.isfinite(mult) and mult >= 0):
            raise ValueError(
                f"special_days[{day}] must be a finite multiplier >= 0 (0 = closed), got {mult!r}"
            )
    return pl.DataFrame(
        {"date": list(special_days), "multiplier": [float(m) for m in special_days.values()]},
        schema={"date": pl.Date, "multiplier": pl.Float64},
    )


def forecast_week(
    history: pl.DataFrame,
    week_start: dt.date,
    interval_minutes: int,
    *,
    special_days: dict[dt.date, float] | None = None,
    params: ForecastParams | None = None,
) -> pl.DataFrame:
    """Forecast every queue of ``history`` for every interval of the week at ``week_start``.

    Only history strictly before ``week_start`` (00:00 of the week's first day, any weekday) is used. ``history``
    follows the ``history`` contract; rows finer than ``interval_minutes`` are summed.
    Missing intervals are treated as unknown (the day drops out), never as zero.
    ``special_days`` maps a date to a multiplier of its forecast contacts (0.0 = closed).
    Returns the ``forecast`` table: queue_id, interval_start, contacts (>= 0),
    aht_seconds (> 0), sorted by queue and time, 7 x 1440 / interval_minutes rows per queue.
    """
    params = params or ForecastParams()
    _check_interval(interval_minutes)
    start = _check_week_start(week_start)
    slots_per_day = 1440 // interval_minutes
    special = _special_frame(special_days)

    hist = _prepare_history(history, interval_minutes)
    max_weeks = max(params.profile_weeks, params.aht_weeks)
    train = _with_calendar(
        hist.filter(pl.col("interval_start") < start), start, interval_minutes
    ).filter(pl.col("k") <= max_weeks)
    params = effective_params(params, history_weeks(train))

    days = _day_table(train.filter(pl.col("k") <= params.profile_weeks), slots_per_day)
    a, dows = _median_polish(days, params.polish_iterations)
    dows = dows.with_columns(
        pl.when(pl.col("open")).then(pl.col("b").exp().fill_null(0.0)).otherwise(0.0).alias("eb")
    ).with_columns(
        (pl.col("eb") / pl.col("eb").sum().over("queue_id")).fill_nan(0.0).alias("day_share"),
        pl.col("eb").sum().over("queue_id").alias("eb_sum"),
    )
    # Week level L_k = exp(a_k) * sum over days of exp(b_d): the week's total as if
    # every open day had been observed and normal.
    weeks = a.join(dows.group_by("queue_id").agg(pl.col("eb_sum").first()), on="queue_id").select(
        "queue_id", "k", (pl.col("a").exp() * pl.col("eb_sum")).alias("L")
    )
    fitted = a.join(dows.select("queue_id", "dow", "b"), on="queue_id").select(
        "queue_id", "k", "dow", (pl.col("a") + pl.col("b")).alias("fit")
    )
    if params.week_level == "ratio":
        weeks = _ratio_week_levels(days, dows)
    level = _weekly_level(weeks, params)
    shares, pooled_shape = _intraday_shares(
        train.filter(pl.col("k") <= params.profile_weeks), days, fitted, params
    )
    queue_mean, queue_all, aht_slot = _aht_profile(train, hist, params)

    grid = _week_grid(hist["queue_id"], start, interval_minutes)
    m = params.aht_prior_contacts
    out = (
        grid.join(level, on="queue_id", how="left")
        .join(dows.select("queue_id", "dow", "day_share"), on=["queue_id", "dow"], how="left")
        .join(shares, on=["queue_id", "dow", "slot"], how="left")
        .join(pooled_shape, on=["queue_id", "slot"], how="left")
        .join(special, on="date", how="left")
        .join(queue_mean, on="queue_id", how="left")
        .join(queue_all, on="queue_id", how="left")
        .join(aht_slot, on=["queue_id", "slot"], how="left")
        .with_columns(
            # Day-of-week never seen in a usable day: pooled shape, else flat.
            pl.when(pl.col("p").is_null().all().over("queue_id", "dow"))
            .then(pl.col("p_pooled").fill_null(0.0))
            .otherwise(pl.col("p").fill_null(0.0))
            .alias("p"),
            pl.coalesce("q_recent", "q_all", pl.lit(params.default_aht_seconds)).alias("q_mean"),
        )
        .with_columns(
            pl.when(pl.col("p").sum().over("queue_id", "dow") > 0)
            .then(pl.col("p"))
            .otherwise(1.0 / slots_per_day)
            .alias("p")
        )
        .with_columns(
            (
                pl.col("level").fill_null(0.0)
                * pl.col("day_share").fill_null(0.0)
                * pl.col("p")
                * pl.col("multiplier").fill_null(1.0)
            )
            .clip(lower_bound=0.0)
            .alias("contacts"),
            (
                (pl.col("ca").fill_null(0.0) + m * pl.col("q_mean"))
                / (pl.col("c").fill_null(0.0) + m)
            ).alias("aht_slot"),
        )
        .with_columns(
            pl.when(pl.col("aht_slot").is_finite() & (pl.col("aht_slot") > 0))
            .then(pl.col("aht_slot"))
            .otherwise(pl.col("q_mean"))
            .alias("aht_seconds")
        )
        .select(
            pl.col("queue_id").cast(pl.String),
            pl.col("interval_start").cast(pl.Datetime("us")),
            # Polars sums in parallel, so the last bits of a float can differ between runs;
            # rounding far below a contact or a second makes the forecast repeatable
            pl.col("contacts").cast(pl.Float64).round(OUTPUT_DECIMALS),
            pl.col("aht_seconds").cast(pl.Float64).round(OUTPUT_DECIMALS),
        )
        .sort("queue_id", "interval_start")
    )
    return out


def seasonal_naive_week(
    history: pl.DataFrame, week_start: dt.date, interval_minutes: int
) -> pl.DataFrame:
    """Seasonal naive baseline: each interval gets the contacts of the same interval one
    week earlier (null where that interval is missing from history).

    Returns queue_id, interval_start, contacts for every interval of the target week.
    """
    _check_interval(interval_minutes)
    start = _check_week_start(week_start)
    hist = _prepare_history(history, interval_minutes)
    prev = hist.filter(
        (pl.col("interval_start") >= start - dt.timedelta(days=7))
        & (pl.col("interval_start") < start)
    ).select(
        "queue_id",
        (pl.col("interval_start") + pl.duration(days=7)).alias("interval_start"),
        "contacts",
    )
    grid = _week_grid(hist["queue_id"], start, interval_minutes).select("queue_id", "interval_start")
    return grid.join(prev, on=["queue_id", "interval_start"], how="left").sort(
        "queue_id", "interval_start"
    )


# --------------------------------------------------------------------------- user files


def _describe(value: Any) -> str:
    return "empty" if value is None or value == "" else repr(value)


def validate_forecast(
    df: pl.DataFrame,
    *,
    source: str = "forecast",
    row_offset: int = 1,
    interval_minutes: int | None = None,
    week_start: dt.date | None = None,
) -> pl.DataFrame:
    """Check a forecast table against the contract and return it with contract dtypes.

    Columns may arrive as strings (as read from CSV). Every problem is collected (up to
    20 listed) and raised as one :class:`ForecastInputError`; each names ``source``, the
    row (data row index + ``row_offset``), the column, the bad value and what was expected.
    With ``interval_minutes`` the interval alignment is checked; with ``week_start`` as
    well, that every queue covers every interval of the week exactly once.
    """
    errors: list[str] = []
    missing = [c for c in FORECAST_SCHEMA if c not in df.columns]
    if missing:
        raise ForecastInputError(
            source,
            [
                f"missing column {c!r} (expected columns {', '.join(FORECAST_SCHEMA)}; "
                f"found {', '.join(df.columns) or 'none'})"
                for c in missing
            ],
        )
    raw = df.select(list(FORECAST_SCHEMA)).with_row_index("_row", offset=row_offset)

    def as_str(col: str) -> pl.Expr:
        return pl.col(col).cast(pl.String)

    ts = pl.col("interval_start")
    if raw.schema["interval_start"] in (pl.String, pl.Utf8):
        ts_parsed = ts.str.strip_chars().str.to_datetime(time_unit="us", strict=False)
    else:
        ts_parsed = ts.cast(pl.Datetime("us"), strict=False)
    typed = raw.with_columns(
        pl.col("queue_id").cast(pl.String).str.strip_chars().alias("queue_id_t"),
        ts_parsed.alias("interval_start_t"),
        pl.col("contacts").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).alias("contacts_t")
        if raw.schema["contacts"] in (pl.String, pl.Utf8)
        else pl.col("contacts").cast(pl.Float64, strict=False).alias("contacts_t"),
        pl.col("aht_seconds").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).alias("aht_t")
        if raw.schema["aht_seconds"] in (pl.String, pl.Utf8)
        else pl.col("aht_seconds").cast(pl.Float64, strict=False).alias("aht_t"),
    )
    checks: list[tuple[str, pl.Expr, str]] = [
        ("queue_id", pl.col("queue_id_t").is_null() | (pl.col("queue_id_t") == ""), "a queue id"),
        (
            "interval_start",
            pl.col("interval_start_t").is_null(),
            "a date-time such as 2024-03-04T08:30:00 (local, no time zone)",
        ),
        (
            "contacts",
            pl.col("contacts_t").is_null()
            | ~pl.col("contacts_t").is_finite()
            | (pl.col("contacts_t") < 0),
            "a number >= 0",
        ),
        (
            "aht_seconds",
            pl.col("aht_t").is_null() | ~pl.col("aht_t").is_finite() | (pl.col("aht_t") <= 0),
            "a number of seconds > 0",
        ),
    ]
    if interval_minutes is not None:
        _check_interval(interval_minutes)
        checks.append(
            (
                "interval_start",
                pl.col("interval_start_t").is_not_null()
                & (pl.col("interval_start_t").dt.truncate(f"{interval_minutes}m") != pl.col("interval_start_t")),
                f"a start aligned to {interval_minutes} minutes",
            )
        )
    bad_rows = typed.with_columns(
        [cond.fill_null(True).alias(f"_bad{i}") for i, (_, cond, _) in enumerate(checks)]
    )
    flag_cols = [f"_bad{i}" for i in range(len(checks))]
    flags = bad_rows.filter(pl.any_horizontal(flag_cols))
    total_bad = int(flags.select(pl.sum_horizontal(flag_cols).sum()).item() or 0)
    # Messages only for the first rows already known to be bad (the list is capped).
    for rec in flags.head(_MAX_ERRORS).iter_rows(named=True):
        for i, (col, _, expected) in enumerate(checks):
            if rec[f"_bad{i}"] and len(errors) < _MAX_ERRORS:
                errors.append(
                    f"row {rec['_row']}, column {col!r}: {_describe(rec[col])} "
                    f"(expected {expected})"
                )
    dup = (
        typed.filter(pl.col("queue_id_t").is_not_null() & pl.col("interval_start_t").is_not_null())
        .filter(pl.struct("queue_id_t", "interval_start_t").is_duplicated())
        .sort("_row")
    )
    for rec in dup.head(_MAX_ERRORS).iter_rows(named=True):
        total_bad += 1
        if len(errors) < _MAX_ERRORS:
            errors.append(
                f"row {rec['_row']}, column 'interval_start': {_describe(rec['interval_start'])} "
                f"repeats for queue {rec['queue_id_t']!r} (expected one row per queue and interval)"
            )
    if week_start is not None and interval_minutes is not None and not errors:
        start = _check_week_start(week_start)
        grid = _week_grid(typed["queue_id_t"], start, interval_minutes).select(
            pl.col("queue_id").alias("queue_id_t"), pl.col("interval_start").alias("interval_start_t")
        )
        gaps = grid.join(typed, on=["queue_id_t", "interval_start_t"], how="anti")
        outside = typed.join(grid, on=["queue_id_t", "interval_start_t"], how="anti")
        for rec in gaps.head(_MAX_ERRORS).iter_rows(named=True):
            errors.append(
                f"queue {rec['queue_id_t']!r}: no row for interval {rec['interval_start_t']} "
                f"(expected every interval of the week starting {start:%Y-%m-%d})"
            )
        for rec in outside.sort("_row").head(_MAX_ERRORS).iter_rows(named=True):
            errors.append(
                f"row {rec['_row']}, column 'interval_start': {_describe(rec['interval_start'])} "
                f"(expected a time in the week starting {start:%Y-%m-%d})"
            )
        total_bad += gaps.height + outside.height
    if errors:
        raise ForecastInputError(source, errors[:_MAX_ERRORS], truncated=total_bad > _MAX_ERRORS)
    return typed.select(
        pl.col("queue_id_t").alias("queue_id"),
        pl.col("interval_start_t").alias("interval_start"),
        pl.col("contacts_t").alias("contacts"),
        pl.col("aht_t").alias("aht_seconds"),
    )


def read_forecast(
    path: str | Path,
    *,
    interval_minutes: int | None = None,
    week_start: dt.date | None = None,
) -> pl.DataFrame:
    """Read and validate a user-supplied forecast file (``.csv`` or ``.parquet``).

    Rows in messages are as a spreadsheet shows them: for a CSV the header is row 1, so
    the first data row is row 2; for Parquet the first data row is row 1.
    Raises :class:`ForecastInputError` naming the file, row, column, value and expectation.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ForecastInputError(source, ["file not found (expected a .csv or .parquet forecast)"])
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pl.read_csv(path, infer_schema=False)
            offset = 2
        elif suffix in (".parquet", ".pq"):
            df = pl.read_parquet(path)
            offset = 1
        else:
            raise ForecastInputError(
                source, [f"unsupported file type {suffix!r} (expected .csv or .parquet)"]
            )
    except ForecastInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - reader errors become one typed error
        raise ForecastInputError(source, [f"cannot be read: {exc}"]) from exc
    return validate_forecast(
        df, source=source, row_offset=offset, interval_minutes=interval_minutes, week_start=week_start
    )
