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
from staffing.reports.routing import PLATFORMS, RoutingMap, routing_detail, write_routing


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_tiny_run(tmp_path / "run")


def test_workbook_sheets_and_cells_read_back(run_dir, tmp_path):
    run = load_run(run_dir)
    path = write_workbook(run, tmp_path / "roster.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Agents", "Shifts", "Coverage", "Unmet", "Penalties"]

    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Site"] == "Tiny" and summary["Solver status"] == "FEASIBLE"
    assert summary["Solver status in words"].startswith("a valid roster, not proven the best possible")
    assert summary["Week starting"] == dt.datetime(2024, 6, 3)  # a date, not text
    assert summary["Under-coverage (agent-intervals)"] == run.summary["under_coverage_agent_intervals"] == 18
    # shares are percentages: 37.5 (0-100 in summary.json) is stored as 0.375 with a % format
    assert summary["Under-coverage (of required agent-intervals)"] == pytest.approx(run.summary["under_coverage_pct"] / 100)
    row = next(r for r in wb["Summary"].iter_rows(min_row=2) if r[0].value == "Under-coverage (of required agent-intervals)")
    assert row[1].number_format == "0.00%"
    assert summary["Mean fit of worked intervals (0-1)"] == pytest.approx(run.summary["mean_fit"])
    assert summary["Paid hours"] == 16 and summary["Shifts"] == 4 and summary["Agents with shifts"] == 3

    agents = wb["Agents"]
    # the legend is at the top: the channels worked (no channel the run does not have)
    assert [c.value for c in agents[1]][:6] == ["Colour = channel worked most that day:", None, None, None, "chat", "voice"]
    assert [c.value for c in agents[2]][:6] == ["Agent", "Name", "Contract", "Contract hours", "Paid hours", dt.datetime(2024, 6, 3)]
    assert agents.auto_filter.ref == "A2:L5" and agents.freeze_panes == "C3"
    rows = {r[0]: r for r in agents.iter_rows(min_row=3, max_row=5, values_only=True)}
    # A001 Monday: 08:00-12:00, break 10:00-10:30, voice all day; Tuesday voice then chat
    assert rows["A001"][5] == "08:00-12:00\nbreaks 10:00-10:30\n08:00-10:00 Voice, new orders, English\n10:30-12:00 Voice, new orders, English"
    assert rows["A001"][6] == "08:00-12:00\n08:00-10:00 Voice, new orders, English\n10:00-12:00 Chat, returns, Spanish"
    assert rows["A001"][4] == 8
    assert rows["A002"][6] is None and rows["A003"][5] is None
    # coloured by the channel worked most: A002 chat (green), A001 Monday voice (blue)
    assert agents["F4"].fill.fgColor.rgb.endswith("A9D18E") and agents["F3"].fill.fgColor.rgb.endswith("9DC3E6")
    # print: landscape, one page wide, titles and the agent column repeated
    assert agents.page_setup.orientation == "landscape" and agents.sheet_properties.pageSetUpPr.fitToPage
    assert agents.page_setup.fitToHeight == 0 and agents.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out
    assert agents.print_title_rows == "$1:$2" and agents.print_title_cols == "$A:$B"

    shifts = list(wb["Shifts"].iter_rows(min_row=2, values_only=True))
    assert len(shifts) == 4 and shifts[0][:5] == ("A001", None, dt.datetime(2024, 6, 3), dt.datetime(2024, 6, 3, 8), dt.datetime(2024, 6, 3, 12))
    assert shifts[0][8] == "10:00-10:30"

    cov = wb["Coverage"]
    assert cov.auto_filter.ref is not None and cov.freeze_panes == "B3"
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
    assert [str(e["summary"]) for e in events] == ["Shift: Voice, new orders, English", "Break", "Shift: Chat, returns, Spanish (and 1 other)"]  # a 2 h tie: first by name
    assert str(events[2]["description"]) == "Template part_4h\n08:00-10:00 Voice, new orders, English\n10:00-12:00 Chat, returns, Spanish"
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


def test_timezone_option_converts_from_the_site_zone(run_dir, tmp_path):
    # the run is on Madrid's clock (summary.json); 08:00 CEST is 07:00 in London (BST)
    path = write_calendars(load_run(run_dir), tmp_path / "cal", "Europe/London")[0]
    ev = sorted(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"), key=lambda e: e.decoded("dtstart"))[0]
    start = ev.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/London" and start.replace(tzinfo=None) == dt.datetime(2024, 6, 3, 7)
    assert start.astimezone(dt.UTC) == dt.datetime(2024, 6, 3, 6, tzinfo=dt.UTC)
    assert "site's clock (Europe/Madrid)" in str(ev["description"])


# HR proficiency (0-5) of the tiny run: the fit table's proficiency component x 5
# A001 voice 4.0, A001 chat 3.0, A002 chat 4.5, A003 voice 3.5
@pytest.mark.parametrize(
    ("key", "levels"),
    [
        ("genesys", [4, 3, 5, 4]),  # round(h)
        ("connect", [4, 3, 5, 4]),  # round(h), at least 1
        ("cxone", [5, 9, 3, 7]),  # 20 - round(19 h / 5): 1 best
    ],
)
def test_routing_levels_come_from_hr_proficiency(run_dir, key, levels):
    run = load_run(run_dir)
    detail = routing_detail(run.fit, run.activities, key)
    assert detail.get_column("level").to_list() == levels
    # A001 worked voice most (12 of 15 intervals): primary, chat secondary
    assert detail.select("agent_id", "queue_id", "priority", "priority_rank").rows() == [
        ("A001", "voice/new_orders/en", "primary", 1), ("A001", "chat/returns/es", "secondary", 2),
        ("A002", "chat/returns/es", "primary", 1), ("A003", "voice/new_orders/en", "primary", 1),
    ]


def test_fit_ranks_but_never_raises_a_level():
    # HR says 2 of 5 on both; a perfect fit (style unassessed counts as full marks) must not inflate it
    fit = pl.DataFrame({"agent_id": ["a", "a"], "queue_id": ["q1", "q2"], "eligible": [True, True], "proficiency": [0.4, 0.4], "fit": [1.0, 0.5]})
    for key, level in (("genesys", 2), ("connect", 2), ("cxone", 12)):
        d = routing_detail(fit, None, key)
        assert d.get_column("level").to_list() == [level, level], key
        assert d.get_column("queue_id").to_list() == ["q1", "q2"]  # fit ranks


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_routing_scale_ends(key):
    p = PLATFORMS[key]
    got = pl.select(p.level(pl.Series([0.0, 5.0, 2.5]))).to_series().to_list()
    best, worst = (p.low, p.high) if p.best_is_low else (p.high, p.low)
    assert got[0] == worst and got[1] == best and p.low <= got[2] <= p.high


def test_routing_primary_falls_back_to_best_fit_without_roster_time():
    fit = pl.DataFrame({"agent_id": ["a", "a"], "queue_id": ["q1", "q2"], "eligible": [True, True], "proficiency": [0.6, 0.6], "fit": [0.4, 0.9]})
    d = routing_detail(fit, None, "genesys")
    assert d.select("queue_id", "priority").rows() == [("q2", "primary"), ("q1", "secondary")]


def test_routing_order_follows_the_agents_routing_profile():
    fit = pl.DataFrame({"agent_id": ["a"] * 3, "queue_id": ["q1", "q2", "q3"], "eligible": [True] * 3, "proficiency": [0.6] * 3, "fit": [0.9, 0.5, 0.8]})
    t0 = dt.datetime(2024, 6, 3, 8)
    acts = pl.DataFrame({"agent_id": ["a"] * 3, "interval_start": [t0, t0 + dt.timedelta(minutes=30), t0 + dt.timedelta(hours=1)],
                         "activity": ["q2", "q2", "q1"], "channel": ["voice"] * 3, "fit": [0.5, 0.5, 0.9], "profile": ["q2|q3|q1", "q2|q3|q1", "q1"]})
    d = routing_detail(fit, acts, "genesys")
    # primary: most worked (q2); then the profile's order (q3 before q1 although q1 fits better)
    assert d.get_column("queue_id").to_list() == ["q2", "q3", "q1"]


def test_vendor_import_shapes_with_a_routing_map(run_dir, tmp_path):
    run = load_run(run_dir)
    (tmp_path / "map.toml").write_text(
        '[users.A001]\nname = "Ana Ruiz"\nemail = "ana@example.com"\nusername = "aruiz"\ncxone_agent_id = 1001\n'
        '[skills."voice/new_orders/en"]\ngenesys_skill = "Voice New Orders EN"\ngenesys_queue = "Sales EN"\nconnect_attribute = "Skill"\n'
        'connect_value = "VoiceNewOrdersEN"\ncxone_skill_id = 501\n', encoding="utf-8")
    mapping = RoutingMap.from_toml(tmp_path / "map.toml")
    g = routing_table(run.fit, run.activities, "genesys", mapping)
    assert g.columns == ["name", "email", "queues", "skills"]
    assert g.row(0) == ("Ana Ruiz", "ana@example.com", "Sales EN,chat/returns/es", "Voice New Orders EN:4,chat/returns/es:3")
    assert g.height == 3  # one row per user
    c = routing_table(run.fit, run.activities, "connect", mapping)
    assert c.columns == ["username", "attribute_name", "attribute_value", "level"]
    assert c.rows()[:2] == [("aruiz", "Skill", "VoiceNewOrdersEN", 4), ("aruiz", "queue", "chat/returns/es", 3)]
    x = routing_table(run.fit, run.activities, "cxone", mapping)
    assert x.columns == ["agent_id", "skill_id", "proficiency"] and x.row(0) == ("1001", "501", 5)
    paths = write_routing(run, "cxone", tmp_path / "exports", mapping)
    assert sorted(p.name for p in paths) == ["routing_cxone.csv", "routing_cxone_detail.csv", "routing_cxone_detail.parquet", "routing_cxone_unmapped.csv"]
    unmapped = pl.read_csv(tmp_path / "exports" / "routing_cxone_unmapped.csv")
    assert unmapped.rows() == [("user", "A002", "CXone numeric agent id"), ("user", "A003", "CXone numeric agent id"),
                               ("skill", "chat/returns/es", "CXone numeric skill id")]


def test_routing_map_errors_name_the_toml_key(tmp_path):
    (tmp_path / "map.toml").write_text('[users.A001]\nemial = "x@example.com"\ncxone_agent_id = "abc"\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        RoutingMap.from_toml(tmp_path / "map.toml")
    text = str(exc.value)
    assert 'map.toml, key users.A001.emial: unknown key; see docs/reports.md, "Routing skills", for the routing map' in text
    assert "map.toml, key users.A001.cxone_agent_id: Input should be a valid integer, unable to parse string as an integer, got 'abc'" in text


@pytest.mark.parametrize("fmt", ["xlsx", "ics", "genesys", "connect", "cxone"])
def test_export_command_writes_each_format(run_dir, tmp_path, fmt):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", fmt, "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in out.iterdir())
    expected = {"xlsx": ["roster.xlsx"], "ics": ["A001.ics", "A002.ics", "A003.ics"]}.get(
        fmt, [f"routing_{fmt}.csv", f"routing_{fmt}_detail.csv", f"routing_{fmt}_detail.parquet", f"routing_{fmt}_unmapped.csv"])
    assert written == expected
    if fmt in PLATFORMS:
        assert pl.read_csv(out / f"routing_{fmt}_detail.csv").height == 4
        assert "no " in res.output and "routing map" in res.output  # the note on unmapped ids


def test_export_routing_defaults_to_the_exports_folder(run_dir):
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", "genesys"])
    assert res.exit_code == 0, res.output
    assert (run_dir / "exports" / "routing_genesys.csv").is_file() and not (run_dir / "routing_genesys.csv").exists()


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

    def boom(wb, run, site=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(wbmod, "_build", boom)
    with pytest.raises(RuntimeError):
        write_workbook(load_run(run_dir), tmp_path / "x" / "roster.xlsx")
    assert list((tmp_path / "x").iterdir()) == []
    assert WEEK.weekday() == 0
