"""Service calibration: fit the unavailable time per contact so that simulated service
matches what the centre achieved (`staffing calibrate service DIR`, docs/calibration.md).

Inputs, all written by `staffing import calls`:

- `actuals.csv`: offered, answered within target and abandoned per queue and interval;
- `history.csv`: the handle time of the answered contacts (talk + hold + after-call work);
- `on_duty.csv`: every agent session read from the log (first answer to last end) with the
  agent's routing profile (the queues they answered, most answered first);
- the queues' targets and patience in `site.toml` (the import's maximum-likelihood
  patience per queue, reused here).

Each past week is replayed in the simulator (`staffing.simulate`): the actual offered
contacts of each queue and interval become the Poisson arrival rate, the actual sessions
become the agent groups' staffing, and every contact's mean service time is its interval's
actual handle time plus the *unavailable time per contact* `u` of its weekday. `u` is the
one free parameter: after-call work and the unavailability the log does not show. It is
fitted per weekday so that the simulated service level (answered within the answer time /
offered, over the training weeks) equals the achieved one, by a bracketing root search
(Illinois regula falsi) on a seeded simulation with common random numbers: every
evaluation uses the same seed, so the simulated service level is a smooth, decreasing
function of `u`. A weekday with too little volume to fit takes the volume-weighted mean of
the others.

Validation leaves one week out: fit on the other weeks, replay the held-out week with the
fitted values and compare weekly service level and abandonment, per-day service level, and
per-half-hour service level with its noise floor (the error a perfect model would make,
estimated from the spread between the simulation's own replications).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from staffing.errors import InputError, Problem
from staffing.io import write_table, write_text
from staffing.simulate.run import SimPlan, SimResult, shift_on_queue, simulate_plan
from staffing.site import Site
from staffing.site.config import WEEKDAYS
from staffing.site.tables import Column, TableSchema, read_raw, validate_table
from staffing.site.tables import read_toml

CALIBRATION_FILE = "calibration.toml"
ON_DUTY_FILE = "on_duty.csv"
#: Queue models whose contacts wait in line for an agent: calibrated (deferred work is not)
CALIBRATED_MODELS = ("erlang_c", "erlang_a", "chat")
DAYS_FILE = "calibration_days.csv"
INTERVALS_FILE = "calibration_intervals.csv"
SCHEDULE_FILE = "schedule.csv"  # the paid shifts the plan assumed (a WFM export or a run's shifts.csv)
SHRINKAGE_FILE = "calibration_shrinkage.csv"

ON_DUTY = TableSchema(
    name="on_duty",
    columns=(Column("agent_id", "str"), Column("start", "datetime"), Column("end", "datetime"), Column("profile", "str", nullable=True)),
    key=(),
)

SCHEDULE = TableSchema(
    name="schedule",
    columns=(
        Column("agent_id", "str"), Column("start", "datetime"), Column("end", "datetime"),
        Column("date", "str", required=False, nullable=True),
        Column("lunch_start", "datetime", required=False, nullable=True), Column("lunch_end", "datetime", required=False, nullable=True),
        Column("breaks", "str", required=False, nullable=True),
    ),
    key=(),
    allow_extra=True,  # a run's shifts.csv also has template and paid_minutes
)


@dataclass(frozen=True)
class CalibrationSettings:
    """Every number of the fit in one place (docs/calibration.md)."""

    replications: int = 1  # simulated replications of each week per evaluation
    validation_replications: int = 4  # of a held-out week (also gives the noise floor)
    seed: int = 0
    low_seconds: float = 0.0  # search bracket for the unavailable time per contact
    high_seconds: float = 600.0
    tolerance_sl: float = 0.005  # stop when |simulated - achieved| service level is below this
    tolerance_seconds: float = 1.0  # ... or the bracket is narrower than this
    max_iterations: int = 10
    fit_patience: bool = True  # also fit one factor on every queue's patience to the achieved abandonment
    patience_low: float = 0.5  # search bracket of the patience factor
    patience_high: float = 4.0
    tolerance_abandon: float = 0.003  # stop when |simulated - achieved| abandonment is below this
    tolerance_factor: float = 0.02  # ... or the factor's bracket is narrower than this
    max_outer_iterations: int = 5
    warm_bracket_seconds: float = 25.0  # inner search bracket around the previous solution
    min_day_offered: int = 200  # a weekday with fewer offered contacts (training weeks) is not fitted alone
    max_u_standard_error: float = 30.0  # s: a weekday whose u is less certain than this is not fitted alone
    slope_step_seconds: float = 10.0  # +- this around the fit gives the slope of service level in u
    min_interval_offered: int = 1  # half-hours with fewer offered contacts are left out of the half-hour MAE
    workers: int = 1
    min_day_planned_hours: float = 8.0  # a weekday with fewer planned on-queue agent-hours (training weeks) takes the others' mean
    max_shrinkage: float = 0.95  # an estimate above this is capped (the schedule and the sessions hardly overlap)


@dataclass
class ObservedWeek:
    """One past week: its simulation plan (actual arrivals and staffing, no added time) and
    what was achieved, per queue and interval (arrays (K, S) like the plan)."""

    week_start: dt.date
    plan: SimPlan
    offered: np.ndarray
    good: np.ndarray
    abandoned: np.ndarray


@dataclass
class Calibration:
    """Fitted unavailable seconds per weekday and what the fit achieved."""

    unavailable_seconds: dict[str, float]  # weekday key -> seconds added to each contact's handle time
    fitted: dict[str, bool]  # weekday fitted on its own data (False: the others' weighted mean)
    weeks: list[dt.date]
    first_day: dt.date
    last_day: dt.date
    iterations: int  # simulation evaluations (each: every week fitted on)
    patience_factor: float = 1.0  # multiplies every queue's patience (the import's MLE)
    notes: list[str] = field(default_factory=list)


def read_on_duty(site: Site) -> pl.DataFrame:
    """The site's `on_duty.csv` (agent sessions with routing profiles), typed and checked."""
    path = site.root / ON_DUTY_FILE
    if not path.is_file():
        raise InputError([Problem(path.name, f"not found at {path}; expected the agents on duty per session, written by "
                                             f"'staffing import calls LOG --site {site.root}' (re-run the import)")],
                         headline="no on-duty staffing")
    warnings: list[str] = []
    typed, problems = validate_table(read_raw(path), ON_DUTY, path, warnings)
    if problems:
        raise InputError(problems, headline=f"invalid on-duty staffing {path}")
    bad = typed.filter(pl.col("end") < pl.col("start"))
    if bad.height:
        r = bad.row(0, named=True)
        raise InputError([Problem(path.name, f"session ends at {r['end']:%Y-%m-%dT%H:%M:%S} before it starts; expected end >= start",
                                  row=r["__row"] + 2, column="end")], headline=f"invalid on-duty staffing {path}")
    return typed.drop("__row")


def read_schedule(site: Site, path: str | Path | None = None) -> tuple[pl.DataFrame, str] | None:
    """The paid shifts the plan assumed, typed and checked, and the file's name: `path`, else
    the site's `schedule.csv` when present, else None (shrinkage is then not estimated).

    Columns: agent_id, start, end (datetimes), optional date (the day the shift starts),
    lunch_start, lunch_end and breaks (`HH:MM-HH:MM;...`): a run's `shifts.csv` is one."""
    explicit = path is not None
    path = Path(path) if explicit else site.root / SCHEDULE_FILE
    if not path.is_file():
        if explicit:
            raise InputError([Problem(path.name, f"not found at {path}; expected the scheduled shifts (agent_id, start, end, "
                                                 "optional lunch_start, lunch_end, breaks), e.g. a run's shifts.csv")],
                             headline="no schedule")
        return None
    warnings: list[str] = []
    typed, problems = validate_table(read_raw(path), SCHEDULE, path, warnings)
    if problems:
        raise InputError(problems, headline=f"invalid schedule {path}")
    offset = 2 if path.suffix.lower() != ".parquet" else 1
    bad = typed.filter(pl.col("end") <= pl.col("start"))
    if bad.height:
        r = bad.row(0, named=True)
        raise InputError([Problem(path.name, f"shift ends at {r['end']:%Y-%m-%dT%H:%M} at or before it starts; expected end > start",
                                  row=r["__row"] + offset, column="end")], headline=f"invalid schedule {path}")
    for name in ("lunch_start", "lunch_end", "breaks", "date"):
        if name not in typed.columns:
            typed = typed.with_columns(pl.lit(None, dtype=pl.Datetime("us") if name.startswith("lunch") else pl.Utf8).alias(name))
    typed = typed.with_columns(pl.coalesce(pl.col("date").str.to_date(strict=False), pl.col("start").dt.date()).alias("date"))
    bad_breaks = typed.filter(pl.col("breaks").is_not_null() & ~pl.col("breaks").str.strip_chars().str.contains(
        r"^(\d{1,2}:\d{2}-\d{1,2}:\d{2})?(\s*;\s*\d{1,2}:\d{2}-\d{1,2}:\d{2})*\s*;?$"))
    if bad_breaks.height:
        r = bad_breaks.row(0, named=True)
        raise InputError([Problem(path.name, f"expected breaks as HH:MM-HH:MM separated by ';', got {r['breaks']!r}",
                                  row=r["__row"] + offset, column="breaks")], headline=f"invalid schedule {path}")
    return typed.drop("__row"), path.name


def _seconds_per_day(pieces: list[tuple[dt.datetime, dt.datetime]]) -> dict[dt.date, float]:
    """Seconds of the time windows on each calendar day (windows split at midnight)."""
    out: dict[dt.date, float] = {}
    for a, b in pieces:
        while a < b:
            midnight = dt.datetime.combine(a.date() + dt.timedelta(days=1), dt.time())
            cut = min(b, midnight)
            out[a.date()] = out.get(a.date(), 0.0) + (cut - a).total_seconds()
            a = cut
    return out


@dataclass
class ShrinkageEstimate:
    """Shrinkage per weekday: the share of the on-queue time the schedule planned that no
    agent session covered (docs/calibration.md, "Shrinkage and u")."""

    shrinkage: dict[str, float]  # weekday key -> share
    fitted: dict[str, bool]  # weekday estimated on its own data (False: the others' weighted mean)
    days: pl.DataFrame  # date, weekday, planned_hours, on_duty_hours, shrinkage
    source: str
    first_day: dt.date
    last_day: dt.date
    notes: list[str] = field(default_factory=list)


def estimate_shrinkage(schedule: pl.DataFrame, on_duty: pl.DataFrame, weeks: list[dt.date], settings: CalibrationSettings,
                       source: str = SCHEDULE_FILE) -> ShrinkageEstimate | None:
    """Per weekday, 1 - (agent-seconds on duty) / (agent-seconds the schedule planned on queue:
    shift minus lunch and breaks), over the days of `weeks` the schedule covers; both split
    at midnight. The sessions are those the calibration replays (with a routing profile), so
    time inside a session is the simulation's (and `u`'s) and time outside it is shrinkage:
    the two never count the same minute. None when the schedule covers none of the weeks."""
    days_wanted = {w + dt.timedelta(days=i) for w in weeks for i in range(7)}
    planned: dict[dt.date, float] = {}
    for r in schedule.iter_rows(named=True):
        for day, sec in _seconds_per_day(shift_on_queue(r["date"], r["start"], r["end"], r["lunch_start"], r["lunch_end"], r["breaks"])).items():
            planned[day] = planned.get(day, 0.0) + sec
    planned = {d: v for d, v in planned.items() if d in days_wanted and v > 0}
    if not planned:
        return None
    sessions = on_duty.filter(pl.col("profile").is_not_null() & (pl.col("end") > pl.col("start")))
    duty = _seconds_per_day(list(sessions.select("start", "end").iter_rows()))
    dates = sorted(planned)
    weekday = np.array([d.weekday() for d in dates])
    p = np.array([planned[d] for d in dates])
    o = np.array([duty.get(d, 0.0) for d in dates])
    p_wd, o_wd = np.bincount(weekday, weights=p, minlength=7), np.bincount(weekday, weights=o, minlength=7)
    fit = p_wd >= settings.min_day_planned_hours * 3600
    notes: list[str] = []
    if not fit.any():
        return None
    raw = np.where(p_wd > 0, 1.0 - o_wd / np.maximum(p_wd, 1e-9), 0.0)
    for d in np.flatnonzero(fit & (raw < 0)):
        notes.append(f"{WEEKDAYS[d]}: {o_wd[d] / 3600:,.0f} agent-hours on duty against {p_wd[d] / 3600:,.0f} planned on queue "
                     "(overtime or sessions the schedule does not hold); shrinkage 0")
    for d in np.flatnonzero(fit & (raw > settings.max_shrinkage)):
        notes.append(f"{WEEKDAYS[d]}: only {o_wd[d] / 3600:,.0f} of {p_wd[d] / 3600:,.0f} planned agent-hours on duty; capped at {settings.max_shrinkage}")
    value = np.clip(raw, 0.0, settings.max_shrinkage)
    pooled = float((value * np.where(fit, p_wd, 0.0)).sum() / p_wd[fit].sum())
    for d in np.flatnonzero(~fit):
        notes.append(f"{WEEKDAYS[d]}: {p_wd[d] / 3600:,.1f} planned agent-hours (< {settings.min_day_planned_hours:g}); uses the other days' weighted mean")
    value = np.where(fit, value, pooled)
    table = pl.DataFrame({
        "date": dates, "weekday": [WEEKDAYS[w] for w in weekday],
        "planned_hours": np.round(p / 3600, 3), "on_duty_hours": np.round(o / 3600, 3),
        "shrinkage": np.round(1.0 - o / p, 4),
    })
    return ShrinkageEstimate(
        shrinkage={WEEKDAYS[d]: round(float(value[d]), 4) for d in range(7)},
        fitted={WEEKDAYS[d]: bool(fit[d]) for d in range(7)},
        days=table, source=source, first_day=dates[0], last_day=dates[-1], notes=notes,
    )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def observed_weeks(site: Site, actuals: pl.DataFrame, on_duty: pl.DataFrame, replay_counts: bool = True) -> list[ObservedWeek]:
    """Every full week (Monday to Sunday) of the actuals with offered contacts and sessions on duty.

    `replay_counts`: each interval gets exactly its actual offered contacts (arrival times
    uniform inside it); False draws Poisson counts with the actual count as mean, which
    adds load variance the real week did not have and biases the fitted time down."""
    targets = site.targets()
    simulated = targets.filter(pl.col("model").is_in(list(CALIBRATED_MODELS))).get_column("queue_id").to_list()
    acts = actuals.filter(pl.col("queue_id").is_in(simulated))
    if acts.height == 0 or acts.get_column("offered").sum() == 0:
        raise InputError([Problem("actuals.csv", f"no offered contacts on a simulated queue ({', '.join(simulated) or 'none declared'}); "
                                                 "expected the actuals written by 'staffing import calls'")], headline="cannot calibrate")
    step = site.interval_minutes
    days = acts.get_column("interval_start").dt.date()
    first, last = days.min(), days.max()
    mondays = []
    monday = _monday(first)
    if monday < first:
        monday += dt.timedelta(days=7)
    while monday + dt.timedelta(days=6) <= last:
        mondays.append(monday)
        monday += dt.timedelta(days=7)
    if not mondays:
        raise InputError([Problem("actuals.csv", f"covers {first} to {last}; expected at least one full week (Monday to Sunday)")], headline="cannot calibrate")
    aht = site.history.select("queue_id", "interval_start", "aht_seconds")
    queue_aht = site.history.filter(pl.col("contacts") > 0).group_by("queue_id").agg(
        ((pl.col("aht_seconds") * pl.col("contacts")).sum() / pl.col("contacts").sum()).alias("_q"))
    frame = acts.join(aht, on=["queue_id", "interval_start"], how="left").join(queue_aht, on="queue_id", how="left").with_columns(
        pl.coalesce("aht_seconds", "_q", pl.lit(1.0)).alias("aht_seconds"))
    sessions = on_duty.filter(pl.col("profile").is_not_null() & (pl.col("end") > pl.col("start")))
    out = []
    for monday in mondays:
        start = dt.datetime.combine(monday, dt.time())
        end = start + dt.timedelta(days=7)
        week = frame.filter((pl.col("interval_start") >= start) & (pl.col("interval_start") < end))
        if week.get_column("offered").sum() == 0:
            continue
        ses = sessions.filter((pl.col("end") > start) & (pl.col("start") < end)).with_columns(
            pl.col("start").clip(start, end), pl.col("end").clip(start, end))
        if ses.height == 0:
            raise InputError([Problem(ON_DUTY_FILE, f"no agent session in the week of {monday} although {week.get_column('offered').sum():,} contacts "
                                                     "were offered; expected the sessions written by 'staffing import calls'")],
                             headline="no on-duty staffing")
        plan = replay_plan(site, week, ses, targets, step, start, replay_counts)
        K, S = len(plan.queue_ids), plan.n_intervals
        arrays = {}
        qix = {q: k for k, q in enumerate(plan.queue_ids)}
        k_idx = np.array([qix[q] for q in week.get_column("queue_id").to_list()], dtype=int)
        s_idx = ((week.get_column("interval_start") - start).dt.total_seconds() // (step * 60)).to_numpy().astype(int)
        for name, col in (("offered", "offered"), ("good", "answered_within_target"), ("abandoned", "abandoned")):
            a = np.zeros((K, S))
            a[k_idx, s_idx] = week.get_column(col).to_numpy()
            arrays[name] = a
        out.append(ObservedWeek(monday, plan, arrays["offered"], arrays["good"], arrays["abandoned"]))
    return out


def replay_plan(site: Site, week: pl.DataFrame, sessions: pl.DataFrame, targets: pl.DataFrame, step: int, start: dt.datetime,
               replay_counts: bool) -> SimPlan:
    """The simulation plan of one past week: actual offered contacts and handle times,
    the actual sessions as shifts, each session's routing profile in every interval it covers."""
    forecast = week.select("queue_id", "interval_start", pl.col("offered").cast(pl.Float64).alias("contacts"), "aht_seconds")
    shifts = sessions.select(
        "agent_id", pl.col("start").dt.date().alias("date"), "start", "end",
        pl.lit(None, dtype=pl.Datetime("us")).alias("lunch_start"), pl.lit(None, dtype=pl.Datetime("us")).alias("lunch_end"),
        pl.lit("").alias("breaks"))
    size = f"{step}m"
    activities = (
        sessions.with_columns(pl.datetime_ranges(pl.col("start").dt.truncate(size), pl.col("end") - pl.duration(microseconds=1), size)
                              .alias("interval_start"))
        .explode("interval_start")
        .unique(subset=["agent_id", "interval_start"], keep="first", maintain_order=True)
        .select("agent_id", "interval_start", pl.col("profile").alias("activity"), "profile")
    )
    plan = SimPlan.from_tables(forecast, targets, activities, shifts, step, routing=site.config.routing,
                               names={"forecast": "actuals.csv", "activities": ON_DUTY_FILE, "shifts": ON_DUTY_FILE})
    if replay_counts:
        plan = replace(plan, arrivals=replace(plan.arrivals, fixed_counts=True))
    return plan


def _day_index(plan: SimPlan) -> np.ndarray:
    """Weekday (0 = Monday) of each interval of a plan."""
    per_day = 1440 // plan.interval_minutes
    return np.arange(plan.n_intervals) // per_day


def _added(plan: SimPlan, seconds: np.ndarray) -> np.ndarray:
    """(K, S) added service seconds from 7 per-weekday values."""
    return np.broadcast_to(seconds[_day_index(plan)][None, :], plan.forecast_contacts.shape)


def simulate_week(week: ObservedWeek, seconds: np.ndarray, replications: int, settings: CalibrationSettings,
                  patience_factor: float = 1.0) -> SimResult:
    """Replay a past week with per-weekday unavailable seconds (common random numbers: fixed seed)."""
    plan = week.plan.with_added_service(_added(week.plan, seconds), patience_factor)
    return simulate_plan(plan, replications, settings.seed, workers=settings.workers)


def _per_day(result: SimResult, name: str) -> np.ndarray:
    """Mean over replications of a bin statistic summed per weekday: shape (7,)."""
    stack = np.stack([r.bins[name] for r in result.replications]).mean(axis=0).sum(axis=0)
    return np.bincount(_day_index(result.plan), weights=stack, minlength=7)


def _root(fn, lo: np.ndarray, hi: np.ndarray, active: np.ndarray, tol_f: float, tol_x: float, max_iter: int
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectorised Illinois regula falsi for decreasing functions: per component the x in
    [lo, hi] with fn(x) = 0 (the bracket end when the sign does not change there).

    Returns (x, clipped: -1 at lo, +1 at hi, 0 inside, evaluations)."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    f_lo, f_hi = fn(lo), fn(hi)
    evals = 2
    clipped = np.where(f_lo <= 0, -1, np.where(f_hi >= 0, 1, 0)) * active
    x = np.where(clipped == 1, hi, lo)
    done = ~active | (clipped != 0)
    side = np.zeros(lo.shape, dtype=int)
    while not done.all() and evals < max_iter + 2:
        cand = np.clip(lo - f_lo * (hi - lo) / np.where(f_hi != f_lo, f_hi - f_lo, -1.0), lo, hi)
        x = np.where(done, x, cand)
        f = fn(x)
        evals += 1
        for d in np.flatnonzero(~done):
            if abs(f[d]) < tol_f:
                done[d] = True
                continue
            if f[d] > 0:
                lo[d], f_lo[d] = x[d], f[d]
                if side[d] == -1:
                    f_hi[d] /= 2
                side[d] = -1
            else:
                hi[d], f_hi[d] = x[d], f[d]
                if side[d] == 1:
                    f_lo[d] /= 2
                side[d] = 1
            if hi[d] - lo[d] < tol_x:
                done[d] = True
    return x, clipped, evals


def fit_unavailable(weeks: list[ObservedWeek], settings: CalibrationSettings) -> Calibration:
    """Fit the unavailable time per contact of each weekday (simulated service level =
    achieved) and, when `settings.fit_patience`, one factor on every queue's patience
    (simulated abandonment = achieved): an outer root search on the factor, each of its
    evaluations an inner search on the seven weekday values at that factor."""
    if not weeks:
        raise InputError([Problem("actuals.csv", "no week to fit on")], headline="cannot calibrate")
    offered = sum(np.bincount(_day_index(w.plan), weights=w.offered.sum(axis=0), minlength=7) for w in weeks)
    good = sum(np.bincount(_day_index(w.plan), weights=w.good.sum(axis=0), minlength=7) for w in weeks)
    abandoned = float(sum(w.abandoned.sum() for w in weeks))
    fit = offered >= settings.min_day_offered
    if not fit.any():
        raise InputError([Problem("actuals.csv", f"no weekday has {settings.min_day_offered} offered contacts in the weeks fitted on; "
                                                 "expected more history")], headline="cannot calibrate")
    achieved = np.where(offered > 0, good / np.maximum(offered, 1), np.nan)
    achieved_ab = abandoned / offered.sum()

    def run(seconds: np.ndarray, factor: float) -> tuple[np.ndarray, float]:
        g, o, a = np.zeros(7), np.zeros(7), np.zeros(7)
        for w in weeks:
            res = simulate_week(w, seconds, settings.replications, settings, factor)
            g += _per_day(res, "good")
            o += _per_day(res, "offered")
            a += _per_day(res, "abandoned")
        return g / np.maximum(o, 1), float(a.sum() / max(o.sum(), 1))

    evals = 0
    fitted_u: dict[float, tuple[np.ndarray, np.ndarray, float]] = {}  # factor -> (u, clipped, simulated abandonment)

    def fit_u(factor: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Unavailable seconds per weekday matching the service level at a patience factor."""
        nonlocal evals
        if factor not in fitted_u:
            lo, hi = np.full(7, settings.low_seconds), np.full(7, settings.high_seconds)
            if fitted_u:  # warm start: a bracket around the nearest factor's solution, widened if it misses
                near = fitted_u[min(fitted_u, key=lambda f: abs(f - factor))][0]
                lo, hi = np.maximum(lo, near - settings.warm_bracket_seconds), np.minimum(hi, near + settings.warm_bracket_seconds)
            x, clipped, n = _root(lambda v: run(v, factor)[0] - achieved, lo, hi, fit, settings.tolerance_sl, settings.tolerance_seconds,
                                  settings.max_iterations)
            evals += n
            miss = fit & (clipped != 0) & (((clipped == -1) & (lo > settings.low_seconds)) | ((clipped == 1) & (hi < settings.high_seconds)))
            if miss.any():
                x2, clipped2, n = _root(lambda v: run(v, factor)[0] - achieved, np.full(7, settings.low_seconds),
                                        np.full(7, settings.high_seconds), miss, settings.tolerance_sl, settings.tolerance_seconds,
                                        settings.max_iterations)
                evals += n
                x, clipped = np.where(miss, x2, x), np.where(miss, clipped2, clipped)
            weights = np.where(fit, offered, 0.0)
            filled = np.where(fit, x, (x * weights).sum() / weights.sum())
            fitted_u[factor] = (x, clipped, run(filled, factor)[1])
            evals += 1
        return fitted_u[factor]

    factor = 1.0
    if settings.fit_patience:
        f, _, _ = _root(lambda v: np.array([fit_u(float(v[0]))[2] - achieved_ab]), np.array([settings.patience_low]),
                        np.array([settings.patience_high]), np.array([True]), settings.tolerance_abandon, settings.tolerance_factor,
                        settings.max_outer_iterations)
        factor = float(f[0])
    x, clipped, _ = fit_u(factor)
    notes: list[str] = []
    # A weekday whose service level hardly moves with u pins it poorly: the binomial spread of
    # its achieved service level over the slope of the simulated one in u is a (lower-bound)
    # standard error of its u; above `max_u_standard_error` it takes the others' weighted mean.
    inside = fit & (clipped != 1)  # also a day at 0 s: "at or above the simulation with no u" may be all it can say
    if inside.any():
        below = np.maximum(x - settings.slope_step_seconds, settings.low_seconds)
        above = np.minimum(x + settings.slope_step_seconds, settings.high_seconds)
        slope = (run(below, factor)[0] - run(above, factor)[0]) / np.maximum(above - below, 1e-9)
        evals += 2
        spread = np.sqrt(np.clip(np.nan_to_num(achieved * (1 - achieved)), 0, None) / np.maximum(offered, 1))
        se = np.where(slope > 0, spread / np.maximum(slope, 1e-12), np.inf)
        vague = inside & (se > settings.max_u_standard_error)
        if vague.any() and (fit & ~vague).any():
            clipped = np.where(vague, 0, clipped)  # its note is the one below, not "0 s"
            for d in np.flatnonzero(vague):
                how = f"is uncertain by at least +-{se[d]:.0f} s" if np.isfinite(se[d]) else "is not determined by it"
                notes.append(f"{WEEKDAYS[d]}: service level moves only {100 * max(slope[d], 0):.3f} pp per second of u, so {x[d]:.0f} s "
                             f"{how} (limit +-{settings.max_u_standard_error:g} s); uses the other days' weighted mean")
            fit = fit & ~vague
    for d in np.flatnonzero(clipped == -1):
        notes.append(f"{WEEKDAYS[d]}: achieved service level {achieved[d]:.1%} is at or above the simulation with no unavailable time; 0 s")
    for d in np.flatnonzero(clipped == 1):
        notes.append(f"{WEEKDAYS[d]}: even {settings.high_seconds:.0f} s per contact simulates more than the achieved {achieved[d]:.1%}; capped")
    if settings.fit_patience and factor in (settings.patience_low, settings.patience_high):
        notes.append(f"patience factor at its bound {factor}: the achieved abandonment is not matched")
    weights = np.where(fit, offered, 0.0)
    pooled = float((x * weights).sum() / weights.sum())
    values = np.where(fit, x, pooled)
    for d in np.flatnonzero((offered < settings.min_day_offered) & (offered > 0)):
        notes.append(f"{WEEKDAYS[d]}: {offered[d]:.0f} offered contacts (< {settings.min_day_offered}); uses the other days' weighted mean")
    starts = sorted(w.week_start for w in weeks)
    return Calibration(
        unavailable_seconds={WEEKDAYS[d]: round(float(values[d]), 1) for d in range(7)},
        fitted={WEEKDAYS[d]: bool(fit[d]) for d in range(7)},
        weeks=starts, first_day=starts[0], last_day=starts[-1] + dt.timedelta(days=6),
        iterations=evals, patience_factor=round(factor, 3), notes=notes,
    )


def _seconds_array(cal: Calibration) -> np.ndarray:
    return np.array([cal.unavailable_seconds[d] for d in WEEKDAYS])


@dataclass
class WeekCheck:
    """A replayed week against what was achieved."""

    week_start: dt.date
    days: pl.DataFrame  # date, offered, achieved_sl, simulated_sl, achieved_abandon, simulated_abandon
    intervals: pl.DataFrame  # interval_start, offered, achieved_sl, simulated_sl
    achieved_sl: float
    simulated_sl: float
    achieved_abandon: float
    simulated_abandon: float
    day_mae: float
    interval_mae: float
    noise_floor: float


def check_week(week: ObservedWeek, seconds: np.ndarray, settings: CalibrationSettings, patience_factor: float = 1.0) -> WeekCheck:
    """Replay `week` with `seconds` per weekday and compare with what was achieved (all queues together)."""
    res = simulate_week(week, seconds, settings.validation_replications, settings, patience_factor)
    reps = {n: np.stack([r.bins[n] for r in res.replications]).sum(axis=1) for n in ("offered", "good", "abandoned")}  # (R, S)
    sim_off, sim_good, sim_ab = (reps[n].mean(axis=0) for n in ("offered", "good", "abandoned"))
    off, good, ab = week.offered.sum(axis=0), week.good.sum(axis=0), week.abandoned.sum(axis=0)
    day = _day_index(week.plan)

    def per_day(a: np.ndarray) -> np.ndarray:
        return np.bincount(day, weights=a, minlength=7)

    d_off, d_good, d_ab = per_day(off), per_day(good), per_day(ab)
    d_soff, d_sgood, d_sab = per_day(sim_off), per_day(sim_good), per_day(sim_ab)
    has = d_off > 0
    days = pl.DataFrame({
        "date": [week.week_start + dt.timedelta(days=int(d)) for d in np.flatnonzero(has)],
        "offered": d_off[has].astype(int),
        "achieved_sl": d_good[has] / d_off[has], "simulated_sl": d_sgood[has] / np.maximum(d_soff[has], 1e-9),
        "achieved_abandon": d_ab[has] / d_off[has], "simulated_abandon": d_sab[has] / np.maximum(d_soff[has], 1e-9),
    })
    keep = off >= settings.min_interval_offered
    sim_sl = np.where(sim_off > 0, sim_good / np.maximum(sim_off, 1e-9), np.nan)
    ach_sl = np.where(off > 0, good / np.maximum(off, 1), np.nan)
    keep &= np.isfinite(sim_sl)
    intervals = pl.DataFrame({
        "interval_start": [s for s, k in zip(week.plan.interval_starts(), keep) if k],
        "offered": off[keep].astype(int), "achieved_sl": ach_sl[keep], "simulated_sl": sim_sl[keep],
    })
    # noise floor: how far one replication's half-hour service level lies from the mean of the
    # others (scaled to an infinitely precise mean): the error a perfect model would make
    R = reps["offered"].shape[0]
    floors = []
    for r in range(R):
        one = np.where(reps["offered"][r] > 0, reps["good"][r] / np.maximum(reps["offered"][r], 1), np.nan)
        o_rest = reps["offered"].sum(axis=0) - reps["offered"][r]
        g_rest = reps["good"].sum(axis=0) - reps["good"][r]
        rest = np.where(o_rest > 0, g_rest / np.maximum(o_rest, 1e-9), np.nan)
        ok = keep & np.isfinite(one) & np.isfinite(rest)
        floors.append(np.abs(one[ok] - rest[ok]).mean() * np.sqrt((R - 1) / R) if ok.any() else np.nan)
    return WeekCheck(
        week_start=week.week_start, days=days, intervals=intervals,
        achieved_sl=float(good.sum() / off.sum()), simulated_sl=float(sim_good.sum() / sim_off.sum()),
        achieved_abandon=float(ab.sum() / off.sum()), simulated_abandon=float(sim_ab.sum() / sim_off.sum()),
        day_mae=float(np.abs(days["achieved_sl"] - days["simulated_sl"]).mean()),
        interval_mae=float(np.abs(intervals["achieved_sl"] - intervals["simulated_sl"]).mean()),
        noise_floor=float(np.nanmean(floors)) if R > 1 else float("nan"),
    )


@dataclass
class Validation:
    """Leave-one-week-out: per held-out week the fitted values and the check, calibrated and with no unavailable time."""

    folds: list[tuple[Calibration, WeekCheck, WeekCheck]]  # (fit on the others, check calibrated, check with 0 s)


def leave_one_week_out(weeks: list[ObservedWeek], settings: CalibrationSettings) -> Validation:
    """Fit on all weeks but one, check on that one, for every week (needs at least two weeks)."""
    folds = []
    for i, held in enumerate(weeks):
        cal = fit_unavailable([w for j, w in enumerate(weeks) if j != i], settings)
        folds.append((cal, check_week(held, _seconds_array(cal), settings, cal.patience_factor), check_week(held, np.zeros(7), settings)))
    return Validation(folds)


def calibration_toml(cal: Calibration, settings: CalibrationSettings, patience: dict[str, float | None], validation: Validation | None,
                     shrinkage: ShrinkageEstimate | None = None) -> str:
    """The text of calibration.toml."""
    lines = [
        "# Written by 'staffing calibrate service' (docs/calibration.md). Requirements and simulation",
        "# add unavailable_seconds of the interval's weekday to every simulated queue's handle time.",
        "[calibration]",
        f'fitted_from = "{cal.first_day}"',
        f'fitted_to = "{cal.last_day}"',
        f"weeks = [{', '.join(repr(str(w)) for w in cal.weeks)}]".replace("'", '"'),
        'method = "per weekday: unavailable time per contact so that simulated service level = achieved; one patience factor so that simulated abandonment = achieved (nested Illinois root searches, common random numbers)"',
        f"patience_factor = {cal.patience_factor}  # multiplies every simulated queue's patience_seconds",
        f"seed = {settings.seed}",
        f"replications = {settings.replications}",
        *([f'shrinkage_source = "{shrinkage.source}"', f'shrinkage_from = "{shrinkage.first_day}"', f'shrinkage_to = "{shrinkage.last_day}"']
          if shrinkage is not None else []),
        "",
        "[calibration.unavailable_seconds]",
        *[f"{d} = {v}" for d, v in cal.unavailable_seconds.items()],
        "",
        "[calibration.fitted]  # false: too little volume, the other days' weighted mean",
        *[f"{d} = {'true' if v else 'false'}" for d, v in cal.fitted.items()],
        "",
        "[calibration.patience_seconds]  # maximum-likelihood patience per queue from the import (site.toml), for reference",
        *[f'"{q}" = {v}' for q, v in patience.items() if v is not None],
    ]
    if shrinkage is not None:
        lines += [
            "",
            "[calibration.shrinkage]  # share of the planned on-queue time (shift minus lunch and breaks) with no agent on duty;",
            "# replaces site.toml [staffing] shrinkage for voice and chat queues (u covers the time inside sessions)",
            *[f"{d} = {v}" for d, v in shrinkage.shrinkage.items()],
            "",
            "[calibration.shrinkage_fitted]  # false: too few planned hours, the other days' weighted mean",
            *[f"{d} = {'true' if v else 'false'}" for d, v in shrinkage.fitted.items()],
        ]
    if validation is not None:
        lines += ["", "# leave-one-week-out: held-out week, achieved vs simulated"]
        for cal_i, chk, _ in validation.folds:
            lines += [
                "[[calibration.validation]]",
                f'week = "{chk.week_start}"',
                f"achieved_service_level = {chk.achieved_sl:.4f}",
                f"simulated_service_level = {chk.simulated_sl:.4f}",
                f"achieved_abandon_rate = {chk.achieved_abandon:.4f}",
                f"simulated_abandon_rate = {chk.simulated_abandon:.4f}",
                f"day_mae = {chk.day_mae:.4f}",
                f"half_hour_mae = {chk.interval_mae:.4f}",
                f"half_hour_noise_floor = {chk.noise_floor:.4f}",
            ]
    return "\n".join(lines) + "\n"


def write_calibration(site: Site, cal: Calibration, settings: CalibrationSettings, validation: Validation | None,
                      final_check: list[WeekCheck], shrinkage: ShrinkageEstimate | None = None) -> list[str]:
    """Write calibration.toml and the fit tables (per day, per half-hour; per date the
    shrinkage when estimated) into the site folder."""
    patience = dict(site.targets().select("queue_id", "patience_seconds").iter_rows())
    write_text(calibration_toml(cal, settings, patience, validation, shrinkage), site.root / CALIBRATION_FILE)
    days = pl.concat([c.days for c in final_check]) if final_check else pl.DataFrame()
    intervals = pl.concat([c.intervals for c in final_check]) if final_check else pl.DataFrame()
    write_table(days, site.root / DAYS_FILE)
    write_table(intervals, site.root / INTERVALS_FILE)
    written = [CALIBRATION_FILE, DAYS_FILE, INTERVALS_FILE]
    stale = site.root / SHRINKAGE_FILE
    if shrinkage is not None:
        write_table(shrinkage.days, stale)
        written.append(SHRINKAGE_FILE)
    elif stale.is_file():
        stale.unlink()  # from an earlier calibration with a schedule: no longer what calibration.toml says
    return written


# --- use of a calibration by requirements and simulation ---------------------------------------

@dataclass(frozen=True)
class SiteCalibration:
    """calibration.toml as read: seconds per weekday and the date range fitted on."""

    unavailable_seconds: dict[str, float]
    patience_factor: float
    fitted_from: str
    fitted_to: str
    shrinkage: dict[str, float] | None = None  # weekday -> share, replacing site.toml's for voice and chat
    shrinkage_source: str = ""

    def note(self) -> str:
        values = ", ".join(f"{d} {v:.0f}" for d, v in self.unavailable_seconds.items())
        text = (f"calibrated service model ({CALIBRATION_FILE}, fitted on {self.fitted_from} to {self.fitted_to}): "
                f"unavailable time per contact added to handle time {values} s; patience x {self.patience_factor:g}")
        if self.shrinkage is not None:
            shares = ", ".join(f"{d} {100 * v:.0f}%" for d, v in self.shrinkage.items())
            text += f"; calibrated shrinkage (vs {self.shrinkage_source}) instead of site.toml's for voice and chat: {shares}"
        return text


def read_calibration(root: str | Path) -> SiteCalibration | None:
    """The site's calibration.toml, or None when the site has none."""
    path = Path(root) / CALIBRATION_FILE
    if not path.is_file():
        return None
    data = read_toml(path, path.name, "invalid calibration").get("calibration", {})
    seconds = data.get("unavailable_seconds", {})
    factor = data.get("patience_factor", 1.0)
    problems = [] if isinstance(factor, (int, float)) and not isinstance(factor, bool) and factor > 0 else [
        Problem(path.name, f"{factor!r} is not a number > 0", column="calibration.patience_factor")]
    problems += [Problem(path.name, f"unknown weekday {k!r}; expected one of {', '.join(WEEKDAYS)}", column=f"calibration.unavailable_seconds.{k}")
                for k in seconds if k not in WEEKDAYS]
    problems += [Problem(path.name, f"{v!r} is not a number of seconds >= 0", column=f"calibration.unavailable_seconds.{k}")
                 for k, v in seconds.items() if k in WEEKDAYS and (not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0)]
    shrink = data.get("shrinkage")
    if shrink is not None:
        problems += [Problem(path.name, f"unknown weekday {k!r}; expected one of {', '.join(WEEKDAYS)}", column=f"calibration.shrinkage.{k}")
                     for k in shrink if k not in WEEKDAYS]
        problems += [Problem(path.name, f"{shrink.get(k)!r} is not a share from 0 to below 1", column=f"calibration.shrinkage.{k}")
                     for k in WEEKDAYS if not isinstance(shrink.get(k), (int, float)) or isinstance(shrink.get(k), bool) or not 0 <= shrink.get(k) < 1]
    if problems:
        raise InputError(problems, headline="invalid calibration")
    return SiteCalibration({d: float(seconds.get(d, 0.0)) for d in WEEKDAYS}, float(factor), str(data.get("fitted_from", "?")), str(data.get("fitted_to", "?")),
                           {d: float(shrink[d]) for d in WEEKDAYS} if shrink is not None else None, str(data.get("shrinkage_source", "?")))


def calibration_note(site: Site) -> str | None:
    """The one-line note of the site's calibration.toml, or None (for command output)."""
    cal = read_calibration(site.root)
    return cal.note() if cal is not None else None


def apply_calibration(site: Site, forecast: pl.DataFrame, targets: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, str | None]:
    """`forecast` with the site's calibrated unavailable seconds added to `aht_seconds` of the
    real-time (`CALIBRATED_MODELS`: voice, chat) queues by weekday, `targets` with their patience times the
    calibrated factor, and the note saying so; all unchanged and None without a
    calibration.toml."""
    cal = read_calibration(site.root)
    if cal is None:
        return forecast, targets, None
    queues = targets.filter(pl.col("model").is_in(list(CALIBRATED_MODELS))).get_column("queue_id").to_list()
    table = pl.DataFrame({"_wd": list(range(1, 8)), "_u": [cal.unavailable_seconds[d] for d in WEEKDAYS]},
                         schema={"_wd": pl.Int8, "_u": pl.Float64})
    mine = pl.col("queue_id").is_in(queues)
    out = (
        forecast.with_columns(pl.col("interval_start").dt.weekday().cast(pl.Int8).alias("_wd"))
        .join(table, on="_wd", how="left")
        .with_columns(pl.when(mine).then(pl.col("aht_seconds") + pl.col("_u")).otherwise(pl.col("aht_seconds")).alias("aht_seconds"))
        .drop("_wd", "_u")
    )
    targets = targets.with_columns(pl.when(mine).then(pl.col("patience_seconds") * cal.patience_factor)
                                   .otherwise(pl.col("patience_seconds")).alias("patience_seconds"))
    return out, targets, cal.note()


def shrinkage_days(site: Site, forecast: pl.DataFrame, targets: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """`forecast` split into parts that share one shrinkage, each with its `targets`: the
    whole forecast with the site's targets when calibration.toml has no shrinkage; else the
    deferred queues (site.toml shrinkage, whole week: their backlog carries across days) and
    the voice and chat queues of each weekday with that weekday's calibrated shrinkage.
    Queueing and pooling are per interval, so sizing the parts apart gives the same rows."""
    cal = read_calibration(site.root)
    if cal is None or cal.shrinkage is None:
        return [(forecast, targets)]
    queues = targets.filter(pl.col("model").is_in(list(CALIBRATED_MODELS))).get_column("queue_id").to_list()
    mine = pl.col("queue_id").is_in(queues)
    parts = []
    rest = forecast.filter(~mine)
    if rest.height:
        parts.append((rest, targets))
    weekday = pl.col("interval_start").dt.weekday()
    for d, key in enumerate(WEEKDAYS, start=1):
        rows = forecast.filter(mine & (weekday == d))
        if rows.height:
            parts.append((rows, targets.with_columns(pl.when(mine).then(pl.lit(cal.shrinkage[key])).otherwise(pl.col("shrinkage")).alias("shrinkage"))))
    return parts or [(forecast, targets)]


@dataclass
class CalibrationRun:
    """What `calibrate_site` fitted, checked and wrote."""

    calibration: Calibration
    validation: Validation | None
    checks: list[WeekCheck]  # every week replayed with the final values (in-sample fit)
    written: list[str]
    seconds: float = 0.0
    shrinkage: ShrinkageEstimate | None = None  # None: no schedule, or it covers none of the weeks
    schedule: str | None = None  # the schedule file read, if any


def calibrate_site(site: Site, settings: CalibrationSettings, validate: bool = True, actuals_path: str | Path | None = None,
                   schedule_path: str | Path | None = None) -> CalibrationRun:
    """Fit on every full week of the site's actuals, validate leave-one-week-out (when
    `validate` and there are at least two weeks), replay every week with the result,
    estimate shrinkage per weekday when a schedule is given (`schedule_path`, else the
    site's schedule.csv when present), and write calibration.toml and the fit tables into
    the site folder."""
    from staffing.actuals import read_actuals

    actuals = read_actuals(site, actuals_path)
    on_duty = read_on_duty(site)
    schedule = read_schedule(site, schedule_path)
    weeks = observed_weeks(site, actuals, on_duty)
    shrinkage = None
    if schedule is not None:
        shrinkage = estimate_shrinkage(schedule[0], on_duty, [w.week_start for w in weeks], settings, schedule[1])
    validation = leave_one_week_out(weeks, settings) if validate and len(weeks) >= 2 else None
    cal = fit_unavailable(weeks, settings)
    checks = [check_week(w, _seconds_array(cal), settings, cal.patience_factor) for w in weeks]
    written = write_calibration(site, cal, settings, validation, checks, shrinkage)
    return CalibrationRun(cal, validation, checks, written, shrinkage=shrinkage, schedule=schedule[1] if schedule else None)
