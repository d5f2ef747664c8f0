"""Demo actuals with a known truth (`staffing demo-actuals`): a planned roster replayed with a
known unavailable time per contact and shrinkage, then `staffing calibrate service` must
recover both. Tolerances come from the simulation's own spread (replications at the truth)
and the slope of service level in u, not from a guess."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from test_calibrate_service import MAP, MONDAY, _call_log

from staffing.calibration import CalibrationSettings, calibrate_site, observed_weeks, read_on_duty, simulate_week
from staffing.actuals import read_actuals
from staffing.cli.main import cli
from staffing.demo_actuals import TRUTH_FILE, DemoActualsSettings, generate_actuals, write_demo_actuals
from staffing.site import load_site
from staffing.site.importer import import_calls

U_TRUE = 60.0
SHRINK_TRUE = 0.2
AGENTS = 6  # planned 8:00-16:00 with a 15-minute break; ~4.8 turn up for ~2 Erlangs of talk + u
QUEUE = "voice/general/en"


def _roster(week: dt.date, sunday_agents: int = AGENTS) -> tuple[pl.DataFrame, pl.DataFrame]:
    shifts, acts = [], []
    for day in range(7):
        date = week + dt.timedelta(days=day)
        start = dt.datetime.combine(date, dt.time(8))
        for a in range(AGENTS if day < 6 else sunday_agents):
            brk = f"{10 + a % 4}:00-{10 + a % 4}:15"
            shifts.append((f"A{a}", date, start, start + dt.timedelta(hours=8), None, None, brk))
            for i in range(16):
                acts.append((f"A{a}", start + dt.timedelta(minutes=30 * i), QUEUE, QUEUE))
    sh = pl.DataFrame(shifts, schema={"agent_id": pl.Utf8, "date": pl.Date, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
                                      "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8}, orient="row")
    ac = pl.DataFrame(acts, schema={"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "profile": pl.Utf8}, orient="row")
    return sh, ac


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_actuals")
    _call_log(root / "log.csv", weeks=2, seed=11)  # history: 48 calls an hour, 150 s talk, 8:00-16:00
    (root / "map.toml").write_text(MAP, encoding="utf-8")
    import_calls(root / "log.csv", root / "site", root / "map.toml")
    site = load_site(root / "site")
    shifts, acts = _roster(MONDAY.date() + dt.timedelta(days=28))  # a plan week after the history
    result = generate_actuals(site, shifts, acts, DemoActualsSettings(U_TRUE, SHRINK_TRUE, weeks=2, seed=3))
    write_demo_actuals(site, result)
    run = calibrate_site(load_site(root / "site"), CalibrationSettings(fit_patience=False), validate=False)
    return root / "site", result, run


def test_actuals_replay_the_history_and_the_roster(demo):
    site_dir, result, _ = demo
    site = load_site(site_dir)
    actuals = read_actuals(site)  # valid against the actuals schema
    hist = site.history.filter(pl.col("contacts") > 0)
    joined = hist.join(actuals, on=["queue_id", "interval_start"])
    assert joined.height == hist.height and (joined.get_column("offered") == joined.get_column("contacts").round(0)).all()
    assert (actuals.get_column("answered") + actuals.get_column("abandoned") <= actuals.get_column("offered")).all()
    assert (actuals.get_column("answered_within_target") <= actuals.get_column("answered")).all()
    # every session is an on-queue window of a present shift: inside 8:00-16:00, never across the break
    on = read_on_duty(site)
    hours = [(a.hour + a.minute / 60, b.hour + b.minute / 60) for a, b in on.select("start", "end").iter_rows()]
    assert all(8 <= a < b <= 16 for a, b in hours)
    present = on.select("agent_id", pl.col("start").dt.date()).unique().height
    assert sum(b - a for a, b in hours) == pytest.approx(7.75 * present)  # 8 h minus the 15-minute break
    truth = json.loads((site_dir / TRUTH_FILE).read_text())
    assert truth["unavailable_seconds"] == U_TRUE and truth["weeks"] == ["2026-01-05", "2026-01-12"]
    # same seed, same actuals
    again = generate_actuals(site, *_roster(dt.date(2026, 2, 2)), DemoActualsSettings(U_TRUE, SHRINK_TRUE, weeks=2, seed=3))
    assert again.actuals.equals(result.actuals) and again.on_duty.equals(result.on_duty)


def test_calibration_recovers_the_known_shrinkage(demo):
    _, result, run = demo
    est = run.shrinkage
    assert est is not None
    # the estimate is exactly the realized share of planned on-queue time missed ...
    assert est.shrinkage == pytest.approx(result.realized_shrinkage, abs=1e-4)
    # ... and that share is a draw of whole shifts missed with probability 0.2: within 3 binomial sd
    shifts = AGENTS * 14
    realized = float(np.mean(list(result.realized_shrinkage.values())))
    assert abs(realized - SHRINK_TRUE) <= 3 * np.sqrt(SHRINK_TRUE * (1 - SHRINK_TRUE) / shifts)


def test_calibration_recovers_the_known_unavailable_time(demo):
    """Tolerance: the generated weeks are one draw; at the true u the replay's two-week service
    level spreads with sd s over replications, and it falls by |slope| per second of u, so a
    fit to one draw lies within 3 s / |slope| of the truth (plus the root search's 1 s)."""
    site_dir, _, run = demo
    site = load_site(site_dir)
    weeks = observed_weeks(site, read_actuals(site), read_on_duty(site))
    settings = CalibrationSettings()
    u = np.full(7, U_TRUE)

    def sl(seconds: np.ndarray, seed: int, reps: int) -> np.ndarray:
        res = [simulate_week(w, seconds, reps, CalibrationSettings(seed=seed)) for w in weeks]
        good = sum(np.stack([r.bins["good"].sum() for r in x.replications]) for x in res)
        offered = sum(np.stack([r.bins["offered"].sum() for r in x.replications]) for x in res)
        return good / offered

    spread = float(np.std(sl(u, 101, 12), ddof=1))
    slope = float((sl(u + 15, 101, 4).mean() - sl(u - 15, 101, 4).mean()) / 30)  # common random numbers
    assert slope < 0
    tolerance = 3 * spread / abs(slope) + settings.tolerance_seconds
    offered = sum(np.bincount(np.arange(w.offered.shape[1]) // 48, weights=w.offered.sum(axis=0), minlength=7) for w in weeks)
    fitted = np.array(list(run.calibration.unavailable_seconds.values()))
    mean_u = float((fitted * offered).sum() / offered.sum())
    assert abs(mean_u - U_TRUE) <= tolerance, (mean_u, tolerance, run.calibration.unavailable_seconds)
    assert tolerance < 30  # the check has teeth: the spread allows less than half the truth


def test_cli_writes_and_names_the_truth(demo, tmp_path):
    import shutil

    site_dir = tmp_path / "site"
    shutil.copytree(demo[0], site_dir)  # the other tests read the fixture's actuals
    run = tmp_path / "run"
    run.mkdir()
    shifts, acts = _roster(dt.date(2026, 2, 2))
    shifts.write_parquet(run / "shifts.parquet")
    acts.write_parquet(run / "activities.parquet")
    res = CliRunner().invoke(cli, ["demo-actuals", str(run), "--site", str(site_dir), "--unavailable-seconds", "30", "--shrinkage", "0.1"])
    assert res.exit_code == 0, res.output
    assert "Truth: unavailable time 30 s per contact; shifts missed with probability 0.1" in res.output
    assert json.loads((site_dir / TRUTH_FILE).read_text())["unavailable_seconds"] == 30.0
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(cli, ["demo-actuals", str(empty), "--site", str(site_dir)])
    assert res.exit_code == 3 and "has no shifts.parquet, activities.parquet; expected a run folder written by 'staffing roster'" in res.output
    res = CliRunner().invoke(cli, ["demo-actuals", str(run), "--site", str(site_dir), "--weeks", "5"])
    assert res.exit_code == 3 and "covers 2026-01-05 to 2026-01-18: 2 full week(s); expected at least 5 (--weeks)" in res.output


def test_actuals_report_on_demo_actuals_planned_against_achieved(demo, tmp_path):
    """Week 2 planned from week 1's history: the report's planned service level is the
    forecast-weighted planned level of the queue-intervals, the achieved one the generated
    answered-within-target / offered, the volume error offered / forecast - 1."""
    import re

    site_dir, result, _ = demo
    out = tmp_path / "report"
    res = CliRunner().invoke(cli, ["actuals", str(site_dir), "--week", "2026-01-12", "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    rows = pl.read_csv(out / "intervals.csv")
    fig = dict(re.findall(r'data-key="([a-z_]+)" data-value="([^"]*)"', (out / "actuals.html").read_text()))
    planned = rows.filter(pl.col("planned_service_level").is_not_null() & (pl.col("forecast") > 0))
    assert float(fig["planned_service_level"]) == pytest.approx(
        (planned["planned_service_level"] * planned["forecast"]).sum() / planned["forecast"].sum())
    week2 = result.actuals.filter(pl.col("interval_start") >= dt.datetime(2026, 1, 12))
    assert float(fig["achieved_service_level"]) == pytest.approx(week2["answered_within_target"].sum() / week2["offered"].sum())
    assert float(fig["volume_error"]) == pytest.approx(week2["offered"].sum() / rows["forecast"].sum() - 1)
    days = pl.read_csv(out / "days.csv")
    assert days["offered"].sum() == week2["offered"].sum() and days["forecast"].sum() == pytest.approx(rows["forecast"].sum())


def test_a_weekday_whose_service_ignores_u_takes_the_others_mean(demo, tmp_path):
    """With 16 agents on Sunday every call is answered at once whatever u is: Sunday's service
    level carries no information on u, so its fit is flagged and replaced by the
    offered-weighted mean of the other days (docs/calibration.md)."""
    import shutil

    site_dir = tmp_path / "site"
    shutil.copytree(demo[0], site_dir)
    site = load_site(site_dir)
    write_demo_actuals(site, generate_actuals(site, *_roster(dt.date(2026, 2, 2), sunday_agents=16), DemoActualsSettings(U_TRUE, 0.0, weeks=2, seed=3)))
    run = calibrate_site(load_site(site_dir), CalibrationSettings(fit_patience=False), validate=False)
    cal = run.calibration
    assert not cal.fitted["sun"] and all(cal.fitted[d] for d in ("mon", "tue", "wed", "thu", "fri", "sat"))
    assert any(n.startswith("sun: service level moves only") and "uses the other days' weighted mean" in n for n in cal.notes), cal.notes
    weeks = observed_weeks(site, read_actuals(site), read_on_duty(site))
    offered = sum(np.bincount(np.arange(w.offered.shape[1]) // 48, weights=w.offered.sum(axis=0), minlength=7) for w in weeks)[:6]
    others = np.array([cal.unavailable_seconds[d] for d in ("mon", "tue", "wed", "thu", "fri", "sat")])
    assert cal.unavailable_seconds["sun"] == pytest.approx((others * offered).sum() / offered.sum(), abs=0.1)
