"""A plan week that starts on any weekday (site.toml `[site] week_start`, issue 14 point 2):
the week arithmetic, `--week`, the roster's week rules indexed by day of the plan week, the
validator, and a Sunday-start site rostered and validated end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from forecasts.backtest import target_weeks
from forecasts.weeks import day_of_weekday, next_week_start, week_start_of, week_start_problem, weekday_of_day
from staffing.cli.main import cli
from staffing.errors import InputError
from staffing.site import load_site
from staffing.site.config import Rule, Rules, SiteInfo
from staffing.validate import validate_run
from test_roster_fixtures import problem
from test_rules import Q, _want_all, agent, week_of

SUNDAY = dt.date(2025, 3, 2)  # the week before test_roster_fixtures.WEEK (Monday 2025-03-03)
MONDAY = dt.date(2025, 3, 3)
OFF = Rule(mode="off")


# --- the week arithmetic --------------------------------------------------------------------------


def test_week_start_of_any_weekday():
    wed = dt.date(2025, 3, 5)
    assert week_start_of(wed) == MONDAY
    assert week_start_of(wed, 6) == SUNDAY
    assert week_start_of(SUNDAY, 6) == SUNDAY
    assert week_start_of(dt.date(2025, 3, 8), 6) == SUNDAY  # Saturday closes the Sunday week
    assert week_start_of(wed, 4) == dt.date(2025, 2, 28)  # a Friday week
    assert next_week_start(wed, 6) == dt.date(2025, 3, 9)
    assert next_week_start(SUNDAY, 6) == SUNDAY
    assert [weekday_of_day(d, 6) for d in range(7)] == [6, 0, 1, 2, 3, 4, 5]
    assert [day_of_weekday(wd, 6) for wd in range(7)] == [1, 2, 3, 4, 5, 6, 0]


def test_week_start_problem_names_date_weekday_expected_and_nearest():
    assert week_start_problem(SUNDAY, 6) is None
    assert week_start_problem(dt.date(2025, 3, 4), 6) == (
        "2025-03-04 is a Tuesday; weeks of this site start on Sunday ([site] week_start), so use 2025-03-02 or 2025-03-09"
    )


def test_site_week_start_defaults_to_monday_and_refuses_a_non_day():
    assert SiteInfo(name="x").first_weekday == 0
    assert SiteInfo(name="x", week_start="sun").first_weekday == 6
    with pytest.raises(ValidationError) as info:
        SiteInfo(name="x", week_start="sunday")
    assert "'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'" in str(info.value)


def test_backtest_weeks_start_on_the_sites_weekday():
    start = dt.datetime(2025, 2, 1)  # a Saturday; history to Sunday 2025-03-16 inclusive
    times = [start + dt.timedelta(hours=h) for h in range(0, 44 * 24)]
    hist = pl.DataFrame({"queue_id": "q", "interval_start": times, "contacts": 1, "aht_seconds": 60.0})
    assert target_weeks(hist, 3, 60) == [dt.date(2025, 2, 24), dt.date(2025, 3, 3), dt.date(2025, 3, 10)]
    assert target_weeks(hist, 3, 60, first_weekday=6) == [dt.date(2025, 2, 23), dt.date(2025, 3, 2), dt.date(2025, 3, 9)]


# --- the roster's week rules, indexed by day of the plan week ------------------------------------


def test_problem_days_follow_the_week_start():
    p = problem([agent(avail={6: (480, 1200)}, max_h=8)], Q, lambda q, d, m: 1, week=SUNDAY)
    assert (p.weekday_of(0), p.day_of(6), p.weekend_days) == (6, 0, [0, 6])  # Saturday and Sunday close and open the week
    assert [bool(o) for o in p.agents[0].options] == [True, False, False, False, False, False, False]  # Sunday's availability is day 0
    assert p.agents[0].options[0][0].start_minute == 480  # 08:00 on Sunday


def test_hard_weekend_off_in_a_sunday_week_keeps_a_weekend_day_free():
    """Saturday and Sunday are days 6 and 0 of a Sunday week: with the old Monday indexing the
    rule would have kept Friday or Saturday free and let the agent work the whole weekend."""
    r = Rules(weekend_off=Rule(mode="hard"), min_weekend_days_off=2, consecutive_days=OFF)
    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=r, week=SUNDAY)
    choice, _ = week_of(p, _want_all)
    assert [c is not None for c in choice] == [False, True, True, True, True, True, False]


def test_consecutive_days_run_inside_the_plan_week():
    """An agent free every day but Tuesday, 4 consecutive days at most: a Monday week holds
    Wednesday to Sunday in a row (5), so one of them is dropped; in a Sunday week the same days
    are Sunday-Monday and Wednesday-Saturday (2 + 4), so all six are worked."""
    avail = {wd: (360, 1380) for wd in (0, 2, 3, 4, 5, 6)}
    r = Rules(max_consecutive_days=4, weekend_off=OFF)
    a = agent(days=7, max_h=80, avail=avail)
    monday, _ = week_of(problem([a], Q, lambda q, d, m: 1, rules=r, week=MONDAY), _want_all)
    sunday, _ = week_of(problem([a], Q, lambda q, d, m: 1, rules=r, week=SUNDAY), _want_all)
    assert sum(c is not None for c in monday) == 5
    assert [c is not None for c in sunday] == [True, True, False, True, True, True, True]


def test_preferred_day_off_is_a_weekday_whatever_the_week_start():
    p = problem([agent(days_off=[6], max_h=48, min_h=48, days=6)], Q, lambda q, d, m: 1, rules=Rules(weekend_off=OFF, consecutive_days=OFF), week=SUNDAY)
    choice, rows = week_of(p, lambda o: 0)
    assert choice[0] is None  # day 0 is Sunday, the preferred day off
    assert rows == []


def test_roster_problem_refuses_a_week_not_on_the_sites_start(base_site):
    (base_site / "site.toml").write_text((base_site / "site.toml").read_text().replace("[site]\n", '[site]\nweek_start = "sun"\n', 1))
    site = load_site(base_site)
    with pytest.raises(InputError) as info:
        site.check_week(MONDAY)
    assert info.value.problems[0].file == "--week"
    assert str(info.value.problems[0]).endswith("2025-03-03 is a Monday; weeks of this site start on Sunday ([site] week_start), so use 2025-03-02 or 2025-03-09")
    assert site.check_week(SUNDAY) == SUNDAY


# --- end to end: a Sunday-start site rosters and validates ---------------------------------------


def _sunday_site(tmp_path: Path, runner: CliRunner) -> Path:
    site = tmp_path / "site"
    result = runner.invoke(cli, ["init", str(site), "--agents", "20", "--weeks", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    toml = (site / "site.toml").read_text()
    (site / "site.toml").write_text(toml.replace("[site]\n", '[site]\nweek_start = "sun"\n', 1))
    return site


def test_week_option_must_be_the_sites_week_start(tmp_path):
    runner = CliRunner()
    site = _sunday_site(tmp_path, runner)
    result = runner.invoke(cli, ["forecast", str(site), "--week", "2026-11-30"])
    assert result.exit_code == 2
    assert ("Invalid value for '--week': 2026-11-30 is a Monday; weeks of this site start on Sunday ([site] week_start), "
            "so use 2026-11-29 or 2026-12-06") in result.output


def test_sunday_start_site_rosters_and_validates(tmp_path):
    runner = CliRunner()
    site = _sunday_site(tmp_path, runner)
    run = tmp_path / "run"
    result = runner.invoke(cli, ["roster", str(site), "--week", "2026-11-29", "--time-limit", "4", "--workers", "1", "--out", str(run)])
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["week_start"] == "2026-11-29"
    shifts = pl.read_parquet(run / "shifts.parquet")
    assert shifts.get_column("date").min() >= dt.date(2026, 11, 29) and shifts.get_column("date").max() <= dt.date(2026, 12, 5)
    req = pl.read_parquet(run / "requirements.parquet").get_column("interval_start")
    assert (req.min(), req.max()) == (dt.datetime(2026, 11, 29), dt.datetime(2026, 12, 5, 23, 30))
    report = validate_run(run)
    assert report.violations == []
    assert report.checks["week_start"] == "hard"
    assert report.figures["shifts"] > 0
