"""From a call log to a validated roster with the centre's own week (issue 14's "done when"):
`staffing import calls` writes `[site] week_start`, `[rules] weekend` and the opening hours
(from the map, or inferred from the log's hours and said so), then `staffing roster` plans a
week that starts on that day and `staffing validate` finds no violation.

A synthetic three-week log of a Sunday-to-Thursday centre (Friday morning, Saturday evening
reopening) always runs; the real bank log (../shared/data) runs when it is there."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.site import load_site
from staffing.site.calllog import SiteDefaults, week_shape
from staffing.validate import validate_run

DATA = Path(__file__).parent / "data" / "import"
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
BANK_MAP = Path(__file__).resolve().parents[1] / "examples" / "import" / "anonymous_bank.toml"

FIRST_SUNDAY = dt.date(2026, 1, 4)
HOURS = {6: (8, 20), 0: (8, 20), 1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 13), 5: (19, 23)}  # weekday -> open hours
AGENTS = {  # agent -> {weekday: (from, to) hour}
    "ANN": {6: (8, 16), 0: (8, 16), 1: (8, 16), 2: (8, 16)},
    "BOB": {6: (12, 20), 0: (12, 20), 1: (12, 20), 2: (12, 20), 3: (12, 20)},
    "CAT": {1: (8, 16), 2: (8, 16), 3: (8, 16), 4: (8, 13)},
    "DAN": {0: (12, 20), 1: (12, 20), 2: (12, 20), 3: (12, 20), 5: (19, 23)},
    "EVE": {6: (8, 14), 2: (8, 14), 3: (8, 14), 4: (8, 13), 5: (19, 23)},
}


def synthetic_log(path: Path) -> Path:
    """Three weeks from Sunday 2026-01-04: queue A every 10 minutes, B every 20, in the
    opening hours; every tenth call hangs up after 30 s in queue, the others are answered
    by the agents on duty in turn, talk 120-239 s."""
    rows = ["type\tdate\tvru_entry\tvru_exit\tq_time\toutcome\tser_start\tser_time\tserver"]
    n = 0
    for day in (FIRST_SUNDAY + dt.timedelta(days=i) for i in range(21)):
        lo, hi = HOURS[day.weekday()]
        for minute in range(lo * 60, hi * 60, 10):
            for queue in ("A", "B") if minute % 20 == 0 else ("A",):
                n += 1
                t = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute + (n % 7))
                wait = 5 + n % 25
                on_duty = sorted(a for a, days in AGENTS.items() if day.weekday() in days and days[day.weekday()][0] * 60 <= minute < days[day.weekday()][1] * 60)
                if n % 10 == 0 or not on_duty:
                    rows.append(f"{queue}\t{day:%Y%m%d}\t{t:%H:%M:%S}\t{t + dt.timedelta(seconds=5):%H:%M:%S}\t30\tHANG\t0:00:00\t0\tNO_SERVER")
                    continue
                answer = t + dt.timedelta(seconds=5 + wait)
                rows.append(f"{queue}\t{day:%Y%m%d}\t{t:%H:%M:%S}\t{t + dt.timedelta(seconds=5):%H:%M:%S}\t{wait}\tAGENT\t{answer:%H:%M:%S}\t{120 + n * 37 % 120}\t{on_duty[n % len(on_duty)]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def assert_simulated_days_match_forecast(run: Path) -> None:
    """The routing simulation replays the plan week's own days: offered contacts per date
    within 4 standard errors (Poisson, mean of the replications) of the forecast."""
    reps = json.loads((run / "summary.json").read_text())["simulation"]["replications"]
    sim = pl.read_parquet(run / "service.parquet").group_by(pl.col("interval_start").dt.date().alias("day")).agg(pl.col("offered").sum())
    fc = pl.read_parquet(run / "forecast.parquet").group_by(pl.col("interval_start").dt.date().alias("day")).agg(pl.col("contacts").sum())
    both = fc.join(sim, on="day", how="left").sort("day")
    assert both.height == 7
    for day, contacts, offered in both.iter_rows():
        assert abs((offered or 0.0) - contacts) <= 4 * (contacts / reps) ** 0.5 + 1, (day, contacts, offered)


def test_week_shape_inferred_from_the_opening_hours():
    def hours(per_day: dict[str, tuple[int, int]]) -> dict[str, dict[str, tuple[int, int]]]:
        return {"voice": per_day}

    bank_like = {"sun": (420, 1440), "mon": (420, 1440), "tue": (420, 1440), "wed": (420, 1440), "thu": (420, 1440), "fri": (420, 840), "sat": (1170, 1440)}
    shape = week_shape(SiteDefaults(), hours(bank_like))
    assert (shape.weekend, shape.week_start) == (["fri", "sat"], "sun")
    office = {d: (480, 1200) for d in ("mon", "tue", "wed", "thu", "fri")}  # closed at the weekend
    assert (week_shape(SiteDefaults(), hours(office)).weekend, week_shape(SiteDefaults(), hours(office)).week_start) == (["sat", "sun"], "mon")
    split = {**office, "sat": (480, 1200), "wed": (480, 600)}  # short Wednesday and closed Sunday: two runs
    assert (week_shape(SiteDefaults(), hours(split)).weekend, week_shape(SiteDefaults(), hours(split)).week_start) == (["wed", "sun"], "mon")
    always = {d: (0, 1440) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert (week_shape(SiteDefaults(), hours(always)).weekend, week_shape(SiteDefaults(), hours(always)).week_start) == (None, "mon")
    short_log = week_shape(SiteDefaults(), hours(bank_like), weekdays_seen=2)  # two days of log cannot tell a weekend
    assert (short_log.weekend, short_log.week_start, short_log.notes[0]) == (None, "mon", "no weekend inferred: the log's dates cover 2 of the 7 weekdays")
    four_short = {**office, "fri": (480, 600)}  # three short days (Friday to Sunday) are a weekend; four are not
    assert week_shape(SiteDefaults(), hours({**four_short, "thu": (480, 600)})).weekend is None
    assert week_shape(SiteDefaults(), hours(four_short)).weekend == ["fri", "sat", "sun"]
    given = week_shape(SiteDefaults(weekend=["sat"], week_start="tue"), hours(bank_like))
    assert (given.weekend, given.week_start, given.notes) == (["sat"], "tue", [])
    assert shape.notes == [
        "weekend fri, sat inferred from the opening hours (mon 17 h, tue 17 h, wed 17 h, thu 17 h, fri 7 h, sat 4.5 h, sun 17 h: open less than 60% of the longest day)",
        "week_start sun inferred: the day after the weekend",
    ]


def test_synthetic_log_imports_and_rosters_a_sunday_week(tmp_path: Path):
    runner = CliRunner()
    log = synthetic_log(tmp_path / "calls.tsv")
    site, run = tmp_path / "site", tmp_path / "run"
    res = runner.invoke(cli, ["import", "calls", str(log), "--site", str(site), "--map", str(DATA / "small_map.toml")])
    assert res.exit_code == 0, res.output
    assert "Week starts on sun, weekend fri, sat (site.toml [site] week_start, [rules] weekend)" in res.output
    assert "Opening hours voice: mon 08:00-20:00, tue 08:00-20:00, wed 08:00-20:00, thu 08:00-20:00, fri 08:00-13:00, sat 19:00-23:00, sun 08:00-20:00" in res.output
    toml = (site / "site.toml").read_text()
    assert 'week_start = "sun"   # inferred from the opening hours: the day after the weekend' in toml
    assert 'weekend = ["fri", "sat"]   # the site\'s weekend (inferred from the opening hours: the short days)' in toml
    loaded = load_site(site)
    assert loaded.plan_week() == dt.date(2026, 1, 25)  # the Sunday after the log's last Saturday
    res = runner.invoke(cli, ["check", str(site)])
    assert res.exit_code == 0, res.output
    assert "Weeks start on sun (weekend fri, sat); default plan week 2026-01-25" in res.output
    res = runner.invoke(cli, ["roster", str(site), "--time-limit", "4", "--workers", "1", "--out", str(run)])
    assert res.exit_code == 0, res.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["week_start"] == "2026-01-25"
    req = pl.read_parquet(run / "requirements.parquet")
    open_days = req.filter(pl.col("required_agents") > 0).get_column("interval_start").dt.weekday().unique().sort().to_list()
    assert open_days == [1, 2, 3, 4, 5, 6, 7]  # Saturday evening too (polars: Monday = 1)
    sat = req.filter((pl.col("interval_start").dt.weekday() == 6) & (pl.col("required_agents") > 0)).get_column("interval_start")
    assert (sat.min().time(), sat.max().time()) == (dt.time(19), dt.time(22, 30))  # the reopening read from the log
    report = validate_run(run)
    assert report.violations == []
    assert report.figures["shifts"] > 0
    assert_simulated_days_match_forecast(run)


@pytest.mark.skipif(not BANK.is_file(), reason=f"bank data not found at {BANK}")
def test_bank_log_to_a_validated_sunday_week_roster(tmp_path: Path):
    """The done-when of issue 14: only the map (examples/import/anonymous_bank.toml) and the
    draft contracts the import writes; no hand edit."""
    runner = CliRunner()
    site, run = tmp_path / "bank", tmp_path / "run"
    res = runner.invoke(cli, ["import", "calls", str(BANK), "--site", str(site), "--map", str(BANK_MAP)])
    assert res.exit_code == 0, res.output
    assert "Opening hours voice: mon 06:30-24:00, tue 07:00-24:00, wed 06:30-24:00, thu 07:00-24:00, fri 07:00-14:30, sat 19:30-24:00, sun 06:30-24:00" in res.output
    assert "Week starts on sun, weekend fri, sat" in res.output
    res = runner.invoke(cli, ["roster", str(site), "--time-limit", "10", "--workers", "1", "--out", str(run)])
    assert res.exit_code == 0, res.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["week_start"] == "1999-02-21"  # a Sunday
    shifts = pl.read_parquet(run / "shifts.parquet")
    assert shifts.get_column("date").min() >= dt.date(1999, 2, 21) and shifts.get_column("date").max() <= dt.date(1999, 2, 27)
    req = pl.read_parquet(run / "requirements.parquet").filter(pl.col("required_agents") > 0).get_column("interval_start")
    fri = req.filter(req.dt.date() == dt.date(1999, 2, 26))
    sat = req.filter(req.dt.date() == dt.date(1999, 2, 27))
    assert (fri.min().time(), fri.max().time()) == (dt.time(7), dt.time(14))  # Friday half day, 07:00-14:30
    assert sat.min().time() >= dt.time(19, 30)  # Saturday reopens after the Sabbath
    report = validate_run(run)
    assert report.violations == []
    assert_simulated_days_match_forecast(run)
