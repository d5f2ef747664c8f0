"""`staffing calibrate service`: recover a KNOWN unavailable time per contact.

A small seeded generator (`_call_log`, an independent event loop, not the project's
simulator) writes a call log of one queue: Poisson arrivals, a fixed team on duty all
day, first come first served, exponential patience. Each agent is busy for an exponential
time of mean TALK + HIDDEN seconds after answering, but the log records only the share
TALK / (TALK + HIDDEN) of it as talk time: HIDDEN is the unavailable time per contact the
log does not show, in the model's own terms (exponential service of mean AHT + u). The
import then the calibration must find u = HIDDEN.
"""

from __future__ import annotations

import datetime as dt
import heapq
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from staffing.calibration import (
    CALIBRATION_FILE,
    CalibrationSettings,
    apply_calibration,
    calibrate_site,
    read_calibration,
)
from staffing.cli.main import cli
from staffing.site import load_site
from staffing.site.importer import import_calls

TALK = 150.0  # mean talk time the log shows (s)
HIDDEN = 60.0  # mean unavailable time per contact the log does not show (s)
PATIENCE = 300.0  # mean exponential patience (s)
AGENTS = 4
RATE_PER_HOUR = 48.0
OPEN = (8, 16)  # hours
MONDAY = dt.datetime(2026, 1, 5)
MAP = """
[log]
format = "csv"
[columns]
queue = "queue"
arrival = "arrival"
wait_seconds = "wait"
talk_seconds = "talk"
outcome = "outcome"
agent = "agent"
[site]
interval_minutes = 30
answer_seconds = 20
acw_seconds = 0
[queues]
Q = { channel = "voice", driver = "general", language = "en" }
"""


def _call_log(path: Path, weeks: int, seed: int) -> int:
    """Write the synthetic log (CSV) of `weeks` weeks from MONDAY; returns the calls written."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(7 * weeks):
        t0 = (MONDAY + dt.timedelta(days=day)).replace(hour=OPEN[0])
        horizon = (OPEN[1] - OPEN[0]) * 3600.0
        n = rng.poisson(RATE_PER_HOUR * horizon / 3600)
        arrivals = np.sort(rng.uniform(0, horizon, n))
        busy = rng.exponential(TALK + HIDDEN, n)
        patience = rng.exponential(PATIENCE, n)
        free = [(0.0, a) for a in range(AGENTS)]  # (free from, agent): FCFS to the agent free first
        heapq.heapify(free)
        for i, a in enumerate(arrivals):
            # FCFS: an abandoning caller takes no agent, so the next caller is answered when the
            # earliest-free agent frees, unless their patience runs out first
            start, agent = free[0]
            answer = max(a, start)
            if answer - a > patience[i]:
                rows.append(("Q", t0 + dt.timedelta(seconds=a), round(patience[i], 1), 0.0, "abandoned", ""))
                continue
            heapq.heapreplace(free, (answer + busy[i], agent))
            talk = busy[i] * TALK / (TALK + HIDDEN)
            rows.append(("Q", t0 + dt.timedelta(seconds=a), round(answer - a, 1), round(talk, 1), "answered", f"A{agent}"))
    pl.DataFrame(rows, schema=["queue", "arrival", "wait", "talk", "outcome", "agent"], orient="row").with_columns(
        pl.col("arrival").dt.strftime("%Y-%m-%dT%H:%M:%S")
    ).write_csv(path)
    return len(rows)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("calib")
    _call_log(root / "log.csv", weeks=2, seed=7)
    (root / "map.toml").write_text(MAP, encoding="utf-8")
    import_calls(root / "log.csv", root / "site", root / "map.toml")
    return root / "site"


@pytest.fixture(scope="module")
def fitted(site_dir):
    site = load_site(site_dir)
    return calibrate_site(site, CalibrationSettings(fit_patience=False), validate=False)


def test_recovers_known_unavailable_time(fitted):
    cal = fitted.calibration
    values = np.array(list(cal.unavailable_seconds.values()))
    assert all(cal.fitted.values())  # ~384 offered contacts a weekday over the two weeks
    # the week's mean within 10 s of the 60 s hidden (sampling noise of two weeks of ~2,700 calls)
    assert abs(values.mean() - HIDDEN) <= 10.0
    # each weekday alone (two days of data) within 25 s
    assert np.all(np.abs(values - HIDDEN) <= 25.0), cal.unavailable_seconds
    assert cal.first_day == MONDAY.date() and cal.last_day == MONDAY.date() + dt.timedelta(days=13)


def test_uncalibrated_replay_overstates_service_calibrated_matches(fitted):
    for chk in fitted.checks:
        # with the fitted values the replayed week's service level is near the achieved one
        assert abs(chk.simulated_sl - chk.achieved_sl) <= 0.04
        assert abs(chk.simulated_abandon - chk.achieved_abandon) <= 0.03


def test_patience_factor_near_one_when_patience_is_exponential(site_dir, tmp_path):
    """The import's MLE is right for exponential patience: fitting a factor leaves it near 1."""
    shutil.copytree(site_dir, tmp_path / "site")
    run = calibrate_site(load_site(tmp_path / "site"), CalibrationSettings(), validate=False)
    assert 0.75 <= run.calibration.patience_factor <= 1.33
    assert abs(np.mean(list(run.calibration.unavailable_seconds.values())) - HIDDEN) <= 15.0


def test_written_calibration_is_used_by_requirements(site_dir, fitted):
    site = load_site(site_dir)
    cal = read_calibration(site_dir)
    assert cal is not None and cal.fitted_from == "2026-01-05" and cal.fitted_to == "2026-01-18"
    assert cal.unavailable_seconds == fitted.calibration.unavailable_seconds
    fc = pl.DataFrame({"queue_id": ["voice/general/en"] * 2, "interval_start": [MONDAY, MONDAY + dt.timedelta(days=1)],
                       "contacts": [10.0, 10.0], "aht_seconds": [150.0, 150.0]})
    out, targets, note = apply_calibration(site, fc, site.targets())
    assert out.get_column("aht_seconds").to_list() == [150.0 + cal.unavailable_seconds["mon"], 150.0 + cal.unavailable_seconds["tue"]]
    assert "calibration.toml" in note and "fitted on 2026-01-05 to 2026-01-18" in note
    res = CliRunner().invoke(cli, ["requirements", str(site_dir), "--week", "2026-01-19"])
    assert res.exit_code == 0, res.output
    assert "uses the calibrated service model (calibration.toml, fitted on 2026-01-05 to 2026-01-18)" in res.output


def test_missing_on_duty_is_a_clear_error(site_dir, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site_dir, copy)
    (copy / "on_duty.csv").unlink()
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "on_duty.csv: not found at" in res.output and "staffing import calls" in res.output


def test_missing_actuals_is_a_clear_error(site_dir, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site_dir, copy)
    (copy / "actuals.csv").unlink()
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "actuals.csv: not found at" in res.output


def test_bad_on_duty_row_names_file_row_column(site_dir, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site_dir, copy)
    text = (copy / "on_duty.csv").read_text().splitlines()
    head, first = text[0], text[1].split(",")
    first[2] = "not-a-time"
    (copy / "on_duty.csv").write_text("\n".join([head, ",".join(first), *text[2:]]) + "\n")
    res = CliRunner().invoke(cli, ["calibrate", "service", str(copy), "--no-validate"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "on_duty.csv" in res.output and "row 2" in res.output and "end" in res.output and "not-a-time" in res.output


def test_bad_calibration_toml_names_key(site_dir, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site_dir, copy)
    (copy / CALIBRATION_FILE).write_text('[calibration]\npatience_factor = 1.0\n[calibration.unavailable_seconds]\nmon = -5\n')
    res = CliRunner().invoke(cli, ["requirements", str(copy), "--week", "2026-01-19"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "calibration.unavailable_seconds.mon" in res.output and "-5" in res.output


def test_on_duty_sessions_and_profiles_worked_by_hand():
    """tests/data/import/small_log.tsv (acw 10 s, gap 30 min): ANN answers A at 8:00:10 (100 s
    talk), B at 8:35:15 (290 s) - 33 min after the first ended, so a new session - and A on
    Tuesday; BOB answers A at 8:10:35 (200 s) and past midnight at 0:00:10 (50 s)."""
    from staffing.site.calllog import on_duty_table, read_call_log, read_map

    data = Path(__file__).parent / "data" / "import"
    imap = read_map(data / "small_map.toml")
    log = read_call_log(data / "small_log.tsv", imap)
    d = dt.datetime
    both, sales = "voice/sales/en|voice/support/en", "voice/sales/en"
    assert on_duty_table(log, 30, 1).rows() == [
        ("ANN", d(2026, 1, 5, 8, 0, 10), d(2026, 1, 5, 8, 2, 0), both),  # 8:00:10 + 100 + 10
        ("ANN", d(2026, 1, 5, 8, 35, 15), d(2026, 1, 5, 8, 40, 15), both),
        ("ANN", d(2026, 1, 6, 8, 0, 8), d(2026, 1, 6, 8, 1, 48), both),
        ("BOB", d(2026, 1, 5, 8, 10, 35), d(2026, 1, 5, 8, 14, 5), sales),
        ("BOB", d(2026, 1, 6, 0, 0, 10), d(2026, 1, 6, 0, 1, 10), sales),
    ]
    # with min_skill_calls 2 ANN's single B call no longer puts B in her profile (A answered twice: first)
    assert set(on_duty_table(log, 30, 2).get_column("profile")) == {sales}
