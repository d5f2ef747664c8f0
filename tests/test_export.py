"""Exports of a run folder: the workbook read back, calendars parsed, routing scales, CLI."""

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import icalendar
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from report_support import PLAN, WEEK, write_tiny_run

from staffing.cli.main import cli
from staffing.errors import InputError
from staffing.reports import load_run, routing_table, write_calendars, write_workbook
from staffing.reports.calendar import parse_breaks
from staffing.reports.routing import PLATFORMS


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_tiny_run(tmp_path / "run")


def test_workbook_sheets_and_cells_read_back(run_dir, tmp_path):
    run = load_run(run_dir)
    path = write_workbook(run, tmp_path / "roster.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Agents", "Coverage", "Unmet", "Penalties"]

    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Site"] == "Tiny" and summary["Solver status"] == "FEASIBLE"
    assert summary["Under-coverage (agent-intervals)"] == run.summary["under_coverage_agent_intervals"] == 18
    assert summary["Mean fit of worked intervals"] == pytest.approx(run.summary["mean_fit"])
    assert summary["Paid hours"] == 16 and summary["Shifts"] == 4 and summary["Agents with shifts"] == 3

    agents = wb["Agents"]
    assert [c.value for c in agents[1]][:3] == ["Agent", "Mon 2024-06-03", "Tue 2024-06-04"]
    rows = {r[0]: r for r in agents.iter_rows(min_row=2, max_row=4, values_only=True)}
    assert rows["A001"][1:3] == ("08:00-12:00", "08:00-12:00") and rows["A001"][8] == 8
    assert rows["A002"][1:3] == ("08:00-12:00", None) and rows["A003"][1:3] == (None, "08:00-12:00")
    # coloured by the channel worked most: A002 chat (green), A001 Monday voice (blue)
    assert agents["B3"].fill.fgColor.rgb.endswith("A9D18E") and agents["B2"].fill.fgColor.rgb.endswith("9DC3E6")

    cov = wb["Coverage"]
    assert cov["B1"].value == "chat/returns/es" and cov["D1"].value == "voice/new_orders/en"
    assert [cov.cell(2, c).value for c in range(1, 6)] == ["Interval start", "required", "scheduled", "required", "scheduled"]
    assert cov["A3"].value == dt.datetime(2024, 6, 3, 8, 0)
    # Tuesday 11:30 voice: required 2, scheduled 1 (A001 moved to chat)
    last = cov.max_row
    assert cov.cell(last, 1).value == dt.datetime(2024, 6, 4, 11, 30) and (cov.cell(last, 4).value, cov.cell(last, 5).value) == (2, 1)
    totals = [sum(cov.cell(r, c).value for r in range(3, last + 1)) for c in (2, 3, 4, 5)]
    assert totals[0] + totals[2] == run.summary["required_agent_intervals"]

    unmet = list(wb["Unmet"].iter_rows(min_row=2, values_only=True))
    assert sum(r[4] for r in unmet) == run.summary["under_coverage_agent_intervals"]
    assert unmet[0][4] == max(r[4] for r in unmet)

    pen = list(wb["Penalties"].iter_rows(min_row=2, max_row=4, values_only=True))
    assert [r[0] for r in pen] == ["Under coverage", "Preferred day off", "Channel switch"]
    assert pen[0][4] == 9000


def test_workbook_opens_in_libreoffice_headless(run_dir, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = write_workbook(load_run(run_dir), tmp_path / "roster.xlsx")
    out = tmp_path / "lo"
    res = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", "csv", "--outdir", str(out), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    text = (out / "roster.csv").read_text(encoding="utf-8")  # the first sheet, Summary
    assert "Solver status,FEASIBLE" in text and "Site,Tiny" in text


def test_calendar_per_agent_with_shifts_and_breaks(run_dir, tmp_path):
    paths = write_calendars(load_run(run_dir), tmp_path / "cal")
    assert [p.name for p in paths] == ["A001.ics", "A002.ics", "A003.ics"]
    cal = icalendar.Calendar.from_ical(paths[0].read_bytes())
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    # A001: Monday shift with a break, Tuesday shift without
    assert [str(e["summary"]) for e in events] == ["Shift (part_4h)", "Break", "Shift (part_4h)"]
    tz = events[0].decoded("dtstart").tzinfo
    assert str(tz) == "Europe/Madrid"  # from summary.json
    starts = [e.decoded("dtstart").replace(tzinfo=None) for e in events]
    ends = [e.decoded("dtend").replace(tzinfo=None) for e in events]
    assert starts == [dt.datetime(2024, 6, 3, 8), dt.datetime(2024, 6, 3, 10), dt.datetime(2024, 6, 4, 8)]
    assert ends == [dt.datetime(2024, 6, 3, 12), dt.datetime(2024, 6, 3, 10, 30), dt.datetime(2024, 6, 4, 12)]
    assert events[0].decoded("dtstart").utcoffset() == dt.timedelta(hours=2)  # CEST in June
    assert len({str(e["uid"]) for e in events}) == 3
    assert len(cal.walk("VTIMEZONE")) == 1
    total = sum(len(icalendar.Calendar.from_ical(p.read_bytes()).walk("VEVENT")) for p in paths)
    n_shifts = sum(len(days) for days in PLAN.values())
    n_breaks = sum(1 for days in PLAN.values() for d in days.values() if d[2])
    assert total == n_shifts + n_breaks


def test_calendar_without_time_zone_uses_floating_times(run_dir, tmp_path):
    run = load_run(run_dir)
    run.summary.pop("timezone")
    path = write_calendars(run, tmp_path / "cal")[1]
    ev = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
    assert ev.decoded("dtstart") == dt.datetime(2024, 6, 3, 8) and ev.decoded("dtstart").tzinfo is None


def test_unknown_time_zone_is_an_input_error(run_dir, tmp_path):
    with pytest.raises(InputError, match="unknown time zone 'Mars/Base'"):
        write_calendars(load_run(run_dir), tmp_path / "cal", "Mars/Base")


def test_breaks_after_midnight_belong_to_the_next_day():
    start = dt.datetime(2024, 6, 3, 22, 0)
    assert parse_breaks("23:45-00:00;01:00-01:15", start) == [
        (dt.datetime(2024, 6, 3, 23, 45), dt.datetime(2024, 6, 4, 0, 0)),
        (dt.datetime(2024, 6, 4, 1, 0), dt.datetime(2024, 6, 4, 1, 15)),
    ]
    with pytest.raises(InputError, match="break '25h' is not HH:MM-HH:MM"):
        parse_breaks("25h", start)


@pytest.mark.parametrize(
    ("key", "levels"),
    [
        # fit 0.8, 0.6 (A001), 0.9 (A002), 0.7 (A003)
        ("genesys", [4, 3, 5, 4]),  # round(5 f)
        ("connect", [4, 3, 5, 4]),  # 1 + round(4 f)
        ("cxone", [5, 9, 3, 7]),  # 20 - round(19 f): 1 best
    ],
)
def test_routing_levels_on_each_platform_scale(run_dir, key, levels):
    run = load_run(run_dir)
    t = routing_table(run.fit, run.activities, key)
    agent, skill, level = PLATFORMS[key].columns
    assert t.columns[:3] == [agent, skill, level]
    assert t.get_column(level).to_list() == levels
    # A001 worked voice most (12 of 15 intervals): primary, chat secondary
    assert t.select(agent, skill, "priority", "priority_rank").rows() == [
        ("A001", "voice/new_orders/en", "primary", 1), ("A001", "chat/returns/es", "secondary", 2),
        ("A002", "chat/returns/es", "primary", 1), ("A003", "voice/new_orders/en", "primary", 1),
    ]


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_routing_scale_ends(key):
    p = PLATFORMS[key]
    got = pl.select(p.level(pl.Series([0.0, 1.0, 0.5]))).to_series().to_list()
    best, worst = (p.low, p.high) if p.best_is_low else (p.high, p.low)
    assert got[0] == worst and got[1] == best and p.low <= got[2] <= p.high


def test_routing_primary_falls_back_to_best_fit_without_roster_time():
    fit = pl.DataFrame({"agent_id": ["a", "a"], "queue_id": ["q1", "q2"], "eligible": [True, True], "fit": [0.4, 0.9]})
    t = routing_table(fit, None, "genesys")
    assert t.select("skill", "priority").rows() == [("q2", "primary"), ("q1", "secondary")]


@pytest.mark.parametrize("fmt", ["xlsx", "ics", "genesys", "connect", "cxone"])
def test_export_command_writes_each_format(run_dir, tmp_path, fmt):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", fmt, "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in out.iterdir())
    expected = {"xlsx": ["roster.xlsx"], "ics": ["A001.ics", "A002.ics", "A003.ics"]}.get(fmt, [f"routing_{fmt}.csv", f"routing_{fmt}.parquet"])
    assert written == expected
    assert res.output.split() == [str(out / n) for n in expected]
    if fmt in PLATFORMS:
        assert pl.read_csv(out / f"routing_{fmt}.csv").height == 4


def test_export_missing_run_folder_files_is_exit_3_naming_them(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text("{}")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "run"), "--format", "xlsx"])
    assert res.exit_code == 3
    assert "shifts.parquet: file not found in" in res.output and "coverage.parquet: file not found in" in res.output


def test_export_bad_format_is_a_usage_error(run_dir):
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", "pdf"])
    assert res.exit_code == 2 and "'pdf' is not one of 'xlsx', 'ics', 'genesys', 'connect', 'cxone'" in res.output


def test_failed_write_leaves_no_partial_file(run_dir, tmp_path, monkeypatch):
    import staffing.reports.workbook as wbmod

    def boom(wb, run):
        raise RuntimeError("disk full")

    monkeypatch.setattr(wbmod, "_build", boom)
    with pytest.raises(RuntimeError):
        write_workbook(load_run(run_dir), tmp_path / "x" / "roster.xlsx")
    assert list((tmp_path / "x").iterdir()) == []
    assert WEEK.weekday() == 0
