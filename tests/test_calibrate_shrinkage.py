"""Shrinkage estimated apart from the unavailable time per contact (`staffing calibrate
service` with a schedule; docs/calibration.md, "Shrinkage and u").

Shrinkage = 1 - agent-seconds on duty / agent-seconds the schedule planned on queue
(shift minus lunch and breaks), per weekday, split at midnight; the sessions are the ones
the calibration replays (with a routing profile), so `u` and shrinkage never share a minute.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from test_calibrate_service import MAP, MONDAY, _call_log

from forecasts.queueing import ceil_tol
from staffing.calibration import (
    CALIBRATION_FILE,
    SHRINKAGE_FILE,
    CalibrationSettings,
    estimate_shrinkage,
    read_calibration,
)
from staffing.cli.main import cli
from staffing.site import load_site
from staffing.site.importer import import_calls
from staffing.stages import site_forecast, site_requirements

D = dt.datetime
MON = dt.date(2026, 1, 5)


def _schedule(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"agent_id": pl.Utf8, "date": pl.Date, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
                                      "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8}, orient="row")


def _sessions(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"agent_id": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "profile": pl.Utf8}, orient="row")


def test_shrinkage_worked_by_hand():
    """X: Monday 8-17 with lunch 12-13 and two 15-minute breaks -> 7.5 h on queue; Y: Monday
    8-12 -> 4 h (11.5 h planned); X on duty 8-12 and 13-16 (7 h), Y absent -> 1 - 7 / 11.5.
    X: Tuesday 22:00 to Wednesday 06:00 -> 2 h Tuesday, 6 h Wednesday; on duty 22:00-02:00 ->
    2 h each day: Tuesday 0, Wednesday 1 - 2 / 6. A session with no routing profile is not
    replayed, so it is not on duty either. Thursday to Sunday: no plan, the planned-hours
    weighted mean (1 - 11 / 19.5)."""
    schedule = _schedule([
        ("X", MON, D(2026, 1, 5, 8), D(2026, 1, 5, 17), D(2026, 1, 5, 12), D(2026, 1, 5, 13), "10:00-10:15;15:00-15:15"),
        ("Y", MON, D(2026, 1, 5, 8), D(2026, 1, 5, 12), None, None, None),
        ("X", MON + dt.timedelta(days=1), D(2026, 1, 6, 22), D(2026, 1, 7, 6), None, None, ""),
    ])
    sessions = _sessions([
        ("X", D(2026, 1, 5, 8), D(2026, 1, 5, 12), "Q"),
        ("X", D(2026, 1, 5, 13), D(2026, 1, 5, 16), "Q"),
        ("Y", D(2026, 1, 5, 9), D(2026, 1, 5, 11), None),  # no profile: not replayed, not on duty
        ("X", D(2026, 1, 6, 22), D(2026, 1, 7, 2), "Q"),
    ])
    est = estimate_shrinkage(schedule, sessions, [MON], CalibrationSettings(min_day_planned_hours=1.0))
    assert est is not None
    assert est.shrinkage["mon"] == pytest.approx(round(1 - 7 / 11.5, 4))
    assert est.shrinkage["tue"] == 0.0
    assert est.shrinkage["wed"] == pytest.approx(round(1 - 2 / 6, 4))
    pooled = round(1 - 11 / 19.5, 4)
    assert [est.shrinkage[d] for d in ("thu", "fri", "sat", "sun")] == pytest.approx([pooled] * 4, abs=1e-4)
    assert [est.fitted[d] for d in ("mon", "tue", "wed", "thu")] == [True, True, True, False]
    assert est.days.select("date", "planned_hours", "on_duty_hours").rows() == [
        (MON, 11.5, 7.0), (dt.date(2026, 1, 6), 2.0, 2.0), (dt.date(2026, 1, 7), 6.0, 2.0)]
    assert (est.first_day, est.last_day) == (MON, dt.date(2026, 1, 7))
    # the default minimum (8 planned agent-hours a weekday) fits Monday alone; the others take its value
    alone = estimate_shrinkage(schedule, sessions, [MON], CalibrationSettings())
    assert alone is not None and alone.fitted["mon"] and not alone.fitted["wed"]
    assert alone.shrinkage["wed"] == alone.shrinkage["mon"]
    assert any(n.startswith("tue: 2.0 planned agent-hours (< 8)") for n in alone.notes)


def test_overtime_is_zero_shrinkage_with_a_note_and_outside_weeks_is_none():
    schedule = _schedule([("X", MON, D(2026, 1, 5, 8), D(2026, 1, 5, 16), None, None, None)])
    sessions = _sessions([("X", D(2026, 1, 5, 7), D(2026, 1, 5, 17), "Q")])
    est = estimate_shrinkage(schedule, sessions, [MON], CalibrationSettings())
    assert est is not None and est.shrinkage["mon"] == 0.0
    assert est.notes[0] == "mon: 10 agent-hours on duty against 8 planned on queue (overtime or sessions the schedule does not hold); shrinkage 0"
    assert estimate_shrinkage(schedule, sessions, [MON + dt.timedelta(days=7)], CalibrationSettings()) is None


# --- end to end: the synthetic log of test_calibrate_service, 4 agents on duty 8-16 every day,
# scheduled with a fifth agent who never comes: shrinkage = 1/5 of the planned time (up to the
# minutes between 8:00 and each session's first answer, and after 16:00 to the last call's end).

TRUE_SHRINKAGE = 0.2


@pytest.fixture(scope="module")
def shrink_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shrink")
    _call_log(root / "log.csv", weeks=2, seed=7)
    (root / "map.toml").write_text(MAP, encoding="utf-8")
    import_calls(root / "log.csv", root / "site", root / "map.toml")
    rows = []
    for day in range(14):
        date = MONDAY.date() + dt.timedelta(days=day)
        for agent in ("A0", "A1", "A2", "A3", "ABSENT"):
            rows.append(f"{agent},{date},{date}T08:00,{date}T16:00,,,")
    (root / "site" / "schedule.csv").write_text("agent_id,date,start,end,lunch_start,lunch_end,breaks\n" + "\n".join(rows) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["calibrate", "service", str(root / "site"), "--no-validate", "--no-patience"])
    assert res.exit_code == 0, res.output
    (root / "output.txt").write_text(res.output, encoding="utf-8")
    return root / "site"


def test_calibrate_recovers_the_absent_share_and_writes_it(shrink_site):
    output = (shrink_site.parent / "output.txt").read_text()
    assert "Shrinkage, share of the on-queue time schedule.csv planned" in output
    cal = read_calibration(shrink_site)
    assert cal is not None and cal.shrinkage is not None and cal.shrinkage_source == "schedule.csv"
    values = np.array(list(cal.shrinkage.values()))
    # sessions run from the first answer (seconds after 8:00) to the last call's end (minutes after 16:00)
    assert np.all(np.abs(values - TRUE_SHRINKAGE) <= 0.02), cal.shrinkage
    text = (shrink_site / CALIBRATION_FILE).read_text()
    assert 'shrinkage_from = "2026-01-05"' in text and 'shrinkage_to = "2026-01-18"' in text
    days = pl.read_csv(shrink_site / SHRINKAGE_FILE)
    assert days.height == 14 and days.get_column("planned_hours").to_list() == [40.0] * 14


def test_requirements_use_the_calibrated_shrinkage_per_weekday(shrink_site, tmp_path):
    site = load_site(shrink_site)
    cal = read_calibration(shrink_site)
    week = dt.date(2026, 1, 19)
    req = site_requirements(site, site_forecast(site, week), week)
    busy = req.filter(pl.col("agents_occupancy") > 0)
    assert busy.height > 0
    shares = np.array([cal.shrinkage[["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.weekday()]]
                       for d in busy.get_column("interval_start").to_list()])
    expected = ceil_tol(busy.get_column("agents_occupancy").to_numpy() / (1 - shares))
    assert busy.get_column("required_agents").to_list() == expected.tolist()
    # the site's own 0.30 would have given more heads somewhere (the calibrated ~0.2 replaces it)
    assert (ceil_tol(busy.get_column("agents_occupancy").to_numpy() / 0.7) > expected).any()
    res = CliRunner().invoke(cli, ["requirements", str(shrink_site), "--week", str(week)])
    assert res.exit_code == 0, res.output
    assert "calibrated shrinkage (vs schedule.csv) instead of site.toml's for voice and chat: mon " in res.output


def test_recalibrating_without_a_schedule_drops_the_shrinkage(shrink_site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(shrink_site, copy)
    (copy / "schedule.csv").unlink()
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate", "--no-patience"])
    assert res.exit_code == 0, res.output
    assert "Shrinkage: not estimated (no schedule.csv" in res.output
    assert read_calibration(copy).shrinkage is None and not (copy / SHRINKAGE_FILE).exists()


def test_bad_schedule_row_names_file_row_column_value(shrink_site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(shrink_site, copy)
    lines = (copy / "schedule.csv").read_text().splitlines()
    lines[3] = "A2,2026-01-05,2026-01-05T08:00,2026-01-05T16:00,,,10:00 to 10:15"
    (copy / "schedule.csv").write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate"])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "schedule.csv row 4, column breaks: expected breaks as HH:MM-HH:MM separated by ';', got '10:00 to 10:15'" in res.output
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate", "--schedule", str(tmp_path / "nope.csv")])
    assert res.exit_code == 3 and "nope.csv: not found at" in res.output


def test_bad_calibrated_shrinkage_names_the_key(shrink_site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(shrink_site, copy)
    text = (copy / CALIBRATION_FILE).read_text()
    start = text.index("[calibration.shrinkage]")
    head, tail = text[:start], text[start:]
    tail = tail.replace("\nmon = ", "\nmon = 1.5 #", 1)
    (copy / CALIBRATION_FILE).write_text(head + tail)
    res = CliRunner().invoke(cli, ["requirements", str(copy), "--week", "2026-01-19"])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "calibration.shrinkage.mon" in res.output and "1.5 is not a share from 0 to below 1" in res.output
