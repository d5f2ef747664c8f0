"""Shared by the report, export and browser tests: a tiny hand-made run folder written in
the schemas of docs/contracts.md, and a headless Chromium driver.

The run: week of Monday 2024-06-03, 30-minute intervals, two queues
(voice/new_orders/en, chat/returns/es) open 08:00-12:00 on Monday and Tuesday, three
agents. Every figure of summary.json is computed from the tables, so reports can be
checked against both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl

WEEK = dt.date(2024, 6, 3)
QUEUES = ("voice/new_orders/en", "chat/returns/es")
STEP = dt.timedelta(minutes=30)

# agent -> day offset -> (start hh, end hh, break start "HH:MM" or None, queue per hour slot)
PLAN = {
    "A001": {0: (8, 12, "10:00", ["voice/new_orders/en"] * 8), 1: (8, 12, None, ["voice/new_orders/en"] * 4 + ["chat/returns/es"] * 4)},
    "A002": {0: (8, 12, None, ["chat/returns/es"] * 8)},
    "A003": {1: (8, 12, "09:00", ["voice/new_orders/en"] * 8)},
}
REQUIRED = {"voice/new_orders/en": 2, "chat/returns/es": 1}
FIT = {("A001", "voice/new_orders/en"): 0.8, ("A001", "chat/returns/es"): 0.6, ("A002", "chat/returns/es"): 0.9,
       ("A002", "voice/new_orders/en"): 0.0, ("A003", "voice/new_orders/en"): 0.7, ("A003", "chat/returns/es"): 0.0}


def _write(frame: pl.DataFrame, folder: Path, stem: str) -> None:
    frame.write_parquet(folder / f"{stem}.parquet")
    frame.write_csv(folder / f"{stem}.csv", datetime_format="%Y-%m-%dT%H:%M")


def tiny_tables() -> dict[str, pl.DataFrame]:
    shifts, acts = [], []
    for agent, days in PLAN.items():
        for off, (h0, h1, brk, queues) in days.items():
            day = WEEK + dt.timedelta(days=off)
            start = dt.datetime.combine(day, dt.time(h0))
            end = dt.datetime.combine(day, dt.time(h1))
            shifts.append({"agent_id": agent, "date": day, "template": "part_4h", "start": start, "end": end,
                           "paid_minutes": (h1 - h0) * 60, "lunch_start": None, "lunch_end": None,
                           "breaks": f"{brk}-{(dt.datetime.combine(day, dt.time.fromisoformat(brk)) + STEP):%H:%M}" if brk else ""})
            t = start
            for q in queues:
                if t >= end:
                    break
                if brk and t.strftime("%H:%M") == brk:
                    acts.append({"agent_id": agent, "interval_start": t, "activity": "break", "channel": None, "fit": None})
                else:
                    acts.append({"agent_id": agent, "interval_start": t, "activity": q, "channel": q.split("/")[0], "fit": FIT[(agent, q)]})
                t += STEP
    shifts_df = pl.DataFrame(shifts, schema={"agent_id": pl.Utf8, "date": pl.Date, "template": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
                                             "paid_minutes": pl.Int64, "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8})
    acts_df = pl.DataFrame(acts, schema={"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8, "fit": pl.Float64})
    grid = []
    for off in (0, 1):
        for k in range(8):
            t = dt.datetime.combine(WEEK + dt.timedelta(days=off), dt.time(8)) + k * STEP
            for q in QUEUES:
                grid.append({"queue_id": q, "interval_start": t, "required": REQUIRED[q]})
    cov = pl.DataFrame(grid, schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "required": pl.Int64})
    sched = acts_df.group_by(pl.col("activity").alias("queue_id"), "interval_start").agg(pl.len().cast(pl.Float64).alias("scheduled"))
    cov = (
        cov.join(sched, on=["queue_id", "interval_start"], how="left")
        .with_columns(pl.col("scheduled").fill_null(0.0))
        .with_columns((pl.col("required") - pl.col("scheduled")).clip(lower_bound=0).alias("short"),
                      (pl.col("scheduled") - pl.col("required")).clip(lower_bound=0).alias("over"))
        .sort("queue_id", "interval_start")
    )
    req = cov.select(
        "queue_id", "interval_start", pl.col("queue_id").str.split("/").list.first().alias("channel"),
        pl.lit("erlang_c").alias("method"), pl.lit(10.0).alias("contacts"), pl.lit(300.0).alias("aht_seconds"),
        pl.lit(1.6).alias("workload_erlangs"), pl.col("required").alias("agents_raw"), pl.col("required").alias("agents_occupancy"),
        pl.col("required").alias("required_agents"), pl.lit(0.8).alias("service_level"), pl.lit(15.0).alias("asa_seconds"),
        pl.lit(0.8).alias("occupancy"), pl.lit(None, dtype=pl.Float64).alias("abandon_rate"), pl.lit(True).alias("target_met"),
    )
    pen = pl.DataFrame(
        [
            {"rule": "Under coverage", "agent_id": None, "date": WEEK, "queue_id": "voice/new_orders/en", "amount": 9.0, "unit": "agent-intervals", "cost": 9000.0},
            {"rule": "Preferred day off", "agent_id": "A001", "date": WEEK + dt.timedelta(days=1), "queue_id": None, "amount": 1.0, "unit": "days", "cost": 5.0},
            {"rule": "Channel switch", "agent_id": "A001", "date": WEEK + dt.timedelta(days=1), "queue_id": None, "amount": 1.0, "unit": "switches", "cost": 2.0},
        ],
        schema={"rule": pl.Utf8, "agent_id": pl.Utf8, "date": pl.Date, "queue_id": pl.Utf8, "amount": pl.Float64, "unit": pl.Utf8, "cost": pl.Float64},
    )
    fit_rows = []
    for (agent, q), f in sorted(FIT.items()):
        fit_rows.append({"agent_id": agent, "queue_id": q, "eligible": f > 0, "proficiency": f, "language": 1.0 if f > 0 else 0.0,
                         "style": 0.75, "channel_preference": 0.6, "fit": f, "reasons": "skilled; speaks the language" if f > 0 else "not skilled"})
    fit = pl.DataFrame(fit_rows)
    return {"shifts": shifts_df.sort("agent_id", "date"), "activities": acts_df.sort("agent_id", "interval_start"), "coverage": cov,
            "penalties": pen, "requirements": req, "fit": fit}


def write_tiny_run(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = tiny_tables()
    for stem, frame in t.items():
        _write(frame, folder, stem)
    cov = t["coverage"]
    required = int(cov.get_column("required").sum())
    short = float(cov.get_column("short").sum())
    worked = t["activities"].filter(pl.col("fit").is_not_null())
    summary = {
        "status": "FEASIBLE", "objective": 9007.0, "bound": 8990.0, "gap": 17.0 / 9007.0,
        "under_coverage_agent_intervals": short, "under_coverage_pct": 100 * short / required,
        "under_coverage_bound_pct": 20.0, "required_agent_intervals": required,
        "mean_fit": float(worked.get_column("fit").mean()), "preference_satisfaction_min": 0.5,
        "preference_satisfaction_mean": 0.8333, "switches": 1,
        "paid_hours": float(t["shifts"].get_column("paid_minutes").sum() / 60), "cost": 360.0,
        "wall_seconds": 1.25, "seed": 0, "workers": 2,
        "versions": {"python": "3.11", "polars": "2.1", "ortools": "9.15", "staffing": "0.1.0"},
        "week_start": WEEK.isoformat(), "site": "Tiny", "timezone": "Europe/Madrid",
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return folder


# --- headless Chromium -------------------------------------------------------------------

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")
ROOT = Path(__file__).resolve().parents[1]


def find_chromium() -> tuple[str | None, str | None]:
    """(browser, driver) paths, or None for whichever is missing."""
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    browser = next((p for p in ("/usr/bin/chromium", *map(shutil.which, names)) if p and Path(p).exists()), None)
    driver = next((p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver")) if p and Path(p).exists()), None)
    return browser, driver


def ensure_chromium() -> tuple[str | None, str | None, str]:
    """Find Chromium, installing it with scripts/ensure_chromium.sh when missing; returns
    (browser, driver, message)."""
    browser, driver = find_chromium()
    if browser and driver:
        return browser, driver, ""
    script = ROOT / "scripts" / "ensure_chromium.sh"
    out = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=900)
    browser, driver = find_chromium()
    return browser, driver, (out.stdout + out.stderr).strip()[-500:]


def start_driver(browser: str, driver: str, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver, env=dict(os.environ)), options=opts)


def write_tiny_service(folder: Path) -> Path:
    """A simulated-service table for the tiny run (the simulator's schema): voice misses its
    0.80 target when only one of two agents is on (scheduled < required), chat always meets it."""
    cov = pl.read_parquet(folder / "coverage.parquet")
    service = cov.select(
        "queue_id", "interval_start",
        pl.lit(10.0).alias("offered"),
        pl.when(pl.col("scheduled") < pl.col("required")).then(0.55).otherwise(0.9).alias("service_level"),
        pl.lit(0.04).alias("service_level_hw"),
        pl.lit(12.0).alias("asa_seconds"), pl.lit(3.0).alias("asa_hw"),
        pl.when(pl.col("scheduled") < pl.col("required")).then(0.1).otherwise(0.02).alias("abandon_rate"),
        pl.lit(0.01).alias("abandon_hw"),
        pl.lit(0.8).alias("target"),
        (pl.col("scheduled") >= pl.col("required")).alias("target_met"),
        pl.lit(20, dtype=pl.Int64).alias("replications"),
    ).with_columns(
        (pl.col("offered") * (1 - pl.col("abandon_rate"))).alias("answered"), (pl.col("offered") * pl.col("abandon_rate")).alias("abandoned"),
    )
    _write(service, folder, "service")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["simulation"] = {"overall": {"service_level": 0.75, "abandon_rate": 0.05}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return folder
