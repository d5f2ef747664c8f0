"""Demo actuals with a known truth (`staffing demo-actuals RUN`, docs/calibration.md).

A planned roster (a run folder's shifts and activities) is replayed on the last weeks of
the site's history, as if the centre had worked it:

1. **Schedule.** The roster's shifts, moved by whole weeks onto each replayed week, are
   what the plan assumed (`schedule.csv`).
2. **Shrinkage.** Each scheduled shift is missed entirely with probability `shrinkage`
   (seeded): the agent is absent. Present agents are on duty in every on-queue window of
   their shift (shift minus lunch and breaks), one session per window, with the routing
   profile they were rostered on most in that shift (`on_duty.csv`, the shape
   `staffing import calls` writes).
3. **Service.** The simulator (`staffing.simulate`, the calibration's own replay of a week,
   `staffing.calibration.observed_weeks`) serves the history's actual contacts of each
   voice and chat queue and interval with those sessions, every contact taking its
   interval's historical handle time plus the known unavailable time `u` (one replication,
   seeded). What it answered, within the answer time, and abandoned becomes `actuals.csv`.

`history.csv` keeps the handle time without `u` (what a log shows), so
`staffing calibrate service` has to find `u` from the service achieved, and shrinkage from
`schedule.csv` against `on_duty.csv`. The truth is written to `demo_actuals.json`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from staffing.calibration import CALIBRATED_MODELS, ON_DUTY_FILE, SCHEDULE_FILE, replay_plan
from staffing.errors import InputError, Problem
from staffing.io import write_table, write_text
from staffing.simulate.run import PAUSES, PROFILE_SEPARATOR, shift_on_queue, simulate_plan
from staffing.site import Site
from staffing.site.config import WEEKDAYS

TRUTH_FILE = "demo_actuals.json"
ACTUALS_FILE = "actuals.csv"


@dataclass(frozen=True)
class DemoActualsSettings:
    """The known truth and the size of the replay (one place)."""

    unavailable_seconds: float = 40.0  # added to every voice and chat contact's handle time
    shrinkage: float = 0.10  # probability that a scheduled shift is missed
    weeks: int = 2  # the last full weeks of history replayed
    seed: int = 0


@dataclass
class DemoActuals:
    """The generated tables and the truth behind them."""

    actuals: pl.DataFrame
    on_duty: pl.DataFrame
    schedule: pl.DataFrame
    weeks: list[dt.date]
    settings: DemoActualsSettings
    realized_shrinkage: dict[str, float] = field(default_factory=dict)  # per weekday: share of planned on-queue time absent

    def truth(self) -> dict:
        """The demo_actuals.json object."""
        return {
            "unavailable_seconds": self.settings.unavailable_seconds,
            "shrinkage_probability": self.settings.shrinkage,
            "realized_shrinkage": self.realized_shrinkage,
            "weeks": [w.isoformat() for w in self.weeks],
            "seed": self.settings.seed,
            "method": "docs/calibration.md, 'Demo actuals with a known truth'",
        }


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _history_weeks(site: Site, n: int) -> list[dt.date]:
    """The last `n` full weeks (Monday to Sunday) of the site's history."""
    times = site.history.get_column("interval_start")
    first, last = times.min().date(), times.max().date()
    end = _monday(last + dt.timedelta(days=1))  # the Monday after the last full week
    weeks = [end - dt.timedelta(days=7 * i) for i in range(n, 0, -1)]
    weeks = [w for w in weeks if w >= first]
    if len(weeks) < n:
        raise InputError([Problem(site.config.files.history, f"covers {first} to {last}: {len(weeks)} full week(s); expected at least {n} (--weeks)")],
                         headline="cannot generate actuals")
    return weeks


def _sessions(shifts: pl.DataFrame, activities: pl.DataFrame, absent: np.ndarray) -> pl.DataFrame:
    """On-duty sessions of the present shifts: every on-queue window, with the profile the
    agent was rostered on most in that shift (ties: the first in time)."""
    acts = activities.filter(~pl.col("activity").is_in(list(PAUSES)))
    profile_col = pl.col("profile") if "profile" in acts.columns else pl.col("activity")
    acts = acts.with_columns(pl.coalesce(profile_col, pl.col("activity")).alias("_profile"))
    rows: list[tuple] = []
    for i, r in enumerate(shifts.iter_rows(named=True)):
        if absent[i]:
            continue
        mine = acts.filter((pl.col("agent_id") == r["agent_id"]) & (pl.col("interval_start") >= r["start"]) & (pl.col("interval_start") < r["end"]))
        if mine.height == 0:
            continue
        counts = mine.group_by("_profile", maintain_order=True).len().sort("len", descending=True, maintain_order=True)
        profile = counts.get_column("_profile")[0]
        for a, b in shift_on_queue(r["date"], r["start"], r["end"], r["lunch_start"], r["lunch_end"], r["breaks"]):
            rows.append((r["agent_id"], a, b, profile))
    return pl.DataFrame(rows, schema={"agent_id": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "profile": pl.Utf8}, orient="row")


def _moved(shifts: pl.DataFrame, activities: pl.DataFrame, days: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The roster moved by `days` (a whole number of weeks: breaks as clock times stay)."""
    by = pl.duration(days=days)
    sh = shifts.with_columns(pl.col("date") + by, pl.col("start") + by, pl.col("end") + by, pl.col("lunch_start") + by, pl.col("lunch_end") + by)
    return sh, activities.with_columns(pl.col("interval_start") + by)


def generate_actuals(site: Site, shifts: pl.DataFrame, activities: pl.DataFrame, settings: DemoActualsSettings) -> DemoActuals:
    """Replay the roster (`shifts`, `activities` of one week) on the last `settings.weeks`
    weeks of the site's history with the known unavailable time and shrinkage."""
    if shifts.height == 0:
        raise InputError([Problem("shifts.parquet", "no shifts; expected a roster run folder")], headline="cannot generate actuals")
    step = site.interval_minutes
    targets = site.targets()
    queues = targets.filter(pl.col("model").is_in(list(CALIBRATED_MODELS))).get_column("queue_id").to_list()
    roster_week = _monday(shifts.get_column("date").min())
    weeks = _history_weeks(site, settings.weeks)
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed))
    history = site.history.filter(pl.col("queue_id").is_in(queues)).select(
        "queue_id", "interval_start", pl.col("contacts").round(0).cast(pl.Int64).alias("offered"), "aht_seconds")
    all_actuals, all_sessions, all_schedules = [], [], []
    planned_wd, absent_wd = np.zeros(7), np.zeros(7)
    for w in weeks:
        sh, acts = _moved(shifts.sort("agent_id", "start"), activities, (w - roster_week).days)
        absent = rng.random(sh.height) < settings.shrinkage
        for i, r in enumerate(sh.iter_rows(named=True)):
            for a, b in shift_on_queue(r["date"], r["start"], r["end"], r["lunch_start"], r["lunch_end"], r["breaks"]):
                planned_wd[a.weekday()] += (b - a).total_seconds()  # the demo's shifts end before midnight
                absent_wd[a.weekday()] += (b - a).total_seconds() * absent[i]
        sessions = _sessions(sh, acts, absent)
        start = dt.datetime.combine(w, dt.time())
        week = history.filter(pl.col("interval_start").is_between(start, start + dt.timedelta(days=7), closed="left"))
        plan = replay_plan(site, week.filter(pl.col("offered") > 0), sessions, targets, step, start, replay_counts=True)
        result = simulate_plan(plan.with_added_service(settings.unavailable_seconds), 1, int(rng.integers(2**31)))
        bins = result.replications[0].bins
        cells = pl.DataFrame({
            "queue_id": np.repeat(np.array(plan.queue_ids, dtype=object), plan.n_intervals).tolist(),
            "interval_start": plan.interval_starts() * len(plan.queue_ids),
            **{name: bins[name].reshape(-1).astype(np.int64) for name in ("offered", "served", "good", "abandoned")},
            "wait_served": bins["wait_served"].reshape(-1),
        })
        all_actuals.append(_actuals_rows(week, cells, sessions, step))
        all_sessions.append(sessions)
        all_schedules.append(sh.select("agent_id", "date", "start", "end", "lunch_start", "lunch_end", "breaks"))
    realized = {WEEKDAYS[d]: round(float(absent_wd[d] / planned_wd[d]), 4) for d in range(7) if planned_wd[d] > 0}
    return DemoActuals(pl.concat(all_actuals), pl.concat(all_sessions), pl.concat(all_schedules), weeks, settings, realized)


def _actuals_rows(week: pl.DataFrame, cells: pl.DataFrame, sessions: pl.DataFrame, step: int) -> pl.DataFrame:
    """The actuals table (docs/import.md columns) of one simulated week: every queue and
    interval of the history; busy time as a log shows it (answered x the handle time
    without u); agents serving = on duty with the queue in their profile."""
    size = f"{step}m"
    duty = (
        sessions.with_columns(pl.datetime_ranges(pl.col("start").dt.truncate(size), pl.col("end") - pl.duration(microseconds=1), size).alias("interval_start"))
        .explode("interval_start")
        .select("agent_id", "interval_start", pl.col("profile").str.split(PROFILE_SEPARATOR).alias("queue_id"))
        .unique(subset=["agent_id", "interval_start"], keep="first", maintain_order=True)
    )
    on_duty = duty.group_by("interval_start").agg(pl.col("agent_id").n_unique().cast(pl.Int64).alias("agents_on_duty"))
    serving = duty.explode("queue_id").group_by("queue_id", "interval_start").agg(pl.col("agent_id").n_unique().cast(pl.Int64).alias("agents_serving"))
    return (
        week.select("queue_id", "interval_start", "aht_seconds")
        .join(cells, on=["queue_id", "interval_start"], how="left")
        .join(on_duty, on="interval_start", how="left")
        .join(serving, on=["queue_id", "interval_start"], how="left")
        .with_columns(pl.col("offered", "served", "good", "abandoned", "agents_on_duty", "agents_serving").fill_null(0), pl.col("wait_served").fill_null(0.0))
        .select(
            "queue_id", "interval_start", "offered", pl.col("served").alias("answered"), pl.col("good").alias("answered_within_target"), "abandoned",
            pl.when(pl.col("offered") > 0).then(pl.col("good") / pl.col("offered")).round(4).alias("service_level"),
            pl.when(pl.col("served") > 0).then(pl.col("wait_served") / pl.col("served")).round(1).alias("asa_seconds"),
            pl.lit(None, dtype=pl.Float64).alias("mean_wait_seconds"),
            (pl.col("served") * pl.col("aht_seconds").fill_null(0.0) / (step * 60)).round(3).alias("busy_erlangs"),
            "agents_serving", "agents_on_duty",
        )
        .sort("queue_id", "interval_start")
    )


def write_demo_actuals(site: Site, result: DemoActuals) -> list[str]:
    """Write actuals.csv, on_duty.csv, schedule.csv and the truth (demo_actuals.json) into the site folder."""
    write_table(result.actuals, site.root / ACTUALS_FILE)
    write_table(result.on_duty.sort("agent_id", "start"), site.root / ON_DUTY_FILE)
    write_table(result.schedule.sort("date", "agent_id", "start"), site.root / SCHEDULE_FILE)
    write_text(json.dumps(result.truth(), indent=2) + "\n", site.root / TRUTH_FILE)
    return [ACTUALS_FILE, ON_DUTY_FILE, SCHEDULE_FILE, TRUTH_FILE]


def read_run_roster(run_dir: str | Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A run folder's shifts and activities (Parquet), or an input error naming what is missing."""
    run_dir = Path(run_dir)
    missing = [t for t in ("shifts", "activities") if not (run_dir / f"{t}.parquet").is_file()]
    if missing:
        raise InputError([Problem(str(run_dir), f"has no {', '.join(t + '.parquet' for t in missing)}; expected a run folder written by 'staffing roster'")],
                         headline="cannot generate actuals")
    return pl.read_parquet(run_dir / "shifts.parquet"), pl.read_parquet(run_dir / "activities.parquet")
