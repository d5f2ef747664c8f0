"""HTML roster and HR fit reports: figures match summary.json and the tables; CLI; end to end."""

import html
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
import datetime as dt

from report_support import write_tiny_run, write_tiny_service

from staffing.cli.main import cli
from staffing.reports import fit_report_data, load_run, write_fit_report, write_roster_report
from staffing.reports.charts import day_time_gaps
from staffing.reports.esat import preference_satisfaction
from staffing.reports.roster_html import warnings
from staffing.reports.fit_html import pseudonyms, recommendation_totals, recommendations
from staffing.site import load_site


def figures(text: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', text)}


def table_rows(text: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}"[^>]*>.*?<tbody>(.*?)</tbody>', text, re.S).group(1)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_tiny_run(tmp_path / "run")


def test_roster_report_figures_match_summary_and_tables(run_dir, tmp_path):
    run = load_run(run_dir)
    text = write_roster_report(run, tmp_path / "report.html").read_text(encoding="utf-8")
    f = figures(text)
    for key in ("status", "under_coverage_pct", "mean_fit", "preference_satisfaction_min", "preference_satisfaction_mean", "switches", "paid_hours", "cost", "gap"):
        assert f[key] == str(run.summary[key]), key
    assert f["agents_rostered"] == "3" and f["shifts"] == "4"
    assert "37.50" in text  # under-coverage % as displayed
    rows = {r[0]: r for r in table_rows(text, "coverage-table")}
    # voice: required 2 x 16 = 32; scheduled Mon A001 7 (break) + Tue A001 4 + A003 7 (break) = 18; short 14
    assert rows["voice/new_orders/en"][1:5] == ["32", "18.0", "14.0", "0.0"]
    assert rows["chat/returns/es"][1:5] == ["16", "12.0", "4.0", "0.0"]
    assert sum(float(r[3]) for r in rows.values()) == run.summary["under_coverage_agent_intervals"]
    pen = table_rows(text, "penalties-table")
    assert [r[0] for r in pen] == ["Under coverage", "Preferred day off", "Channel switch"] and pen[0][4] == "9,000.00"
    for chart_id in ("coverage-chart", "gap-heatmap", "fit-histogram", "rule-chart"):
        assert re.search(rf'<figure class="chart" id="{chart_id}"><svg ', text), chart_id
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")  # offline, no external resources
    assert "needs the site folder" in text  # no satisfaction without the site


def test_report_roster_command_writes_report_html(run_dir):
    res = CliRunner().invoke(cli, ["report", "roster", str(run_dir)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(run_dir / "report.html") and (run_dir / "report.html").stat().st_size > 10_000


def test_report_roster_on_a_folder_that_is_not_a_run_is_exit_3(tmp_path):
    res = CliRunner().invoke(cli, ["report", "roster", str(tmp_path)])
    assert res.exit_code == 3 and "summary.json: file not found in" in res.output


def test_preference_satisfaction_items():
    import datetime as dt

    shifts = pl.DataFrame({"agent_id": ["a", "a"], "date": [dt.date(2024, 6, 3), dt.date(2024, 6, 4)],
                           "start": [dt.datetime(2024, 6, 3, 8), dt.datetime(2024, 6, 4, 12)]})
    acts = pl.DataFrame({"agent_id": ["a"] * 4, "channel": ["voice", "voice", "chat", None]})
    agents = pl.DataFrame({"agent_id": ["a", "b"], "pref_start_earliest": ["07:00", None], "pref_start_latest": ["09:00", None]})
    off = pl.DataFrame({"agent_id": ["a", "a"], "weekday": [0, 6]})  # Monday worked, Sunday kept
    prefs = pl.DataFrame({"agent_id": ["a"], "channel": ["chat"], "preference": ["avoid"]})
    got = preference_satisfaction(shifts, acts, agents, off, prefs)
    # items: Mon off 0, Sun off 1, start 08:00 in window 1, start 12:00 out 0, 2 of 3 intervals not on chat
    assert got.rows() == [("a", 5, pytest.approx((0 + 1 + 1 + 0 + 2 / 3) / 5)), ("b", 0, 1.0)]


def test_pseudonyms_are_stable_for_a_key_and_hide_the_order():
    ids = [f"A{i:04d}" for i in range(1, 21)]
    a, b = pseudonyms(ids, b"k"), pseudonyms(ids, b"k")
    assert a == b and sorted(a.values()) == [f"P{i:04d}" for i in range(1, 21)]
    assert [a[i] for i in ids] != sorted(a.values())
    assert pseudonyms(ids, b"other") != a


def test_recommendations_hire_cross_train_and_train():
    pools = pl.DataFrame({"queue_id": ["chat/returns/es"], "language": ["es"], "customers": [1.0], "pool": [3], "speakers_not_skilled": [1],
                          "peak_required": [5], "target": [7]})
    gaps = pl.DataFrame({"queue_id": ["chat/returns/es"] * 2, "dimension": ["warmth", "pace"], "need": [0.7, 0.5],
                         "eligible_agents": [3, 3], "mean_level": [0.5, 0.5], "share_with_gap": [2 / 3, 0.0]})
    recs = recommendations(pools, gaps)
    assert recs.select("kind", "dimension", "agents").rows() == [("hire", "warmth", 3), ("cross-train", None, 1), ("train", "warmth", 2)]
    assert recs.get_column("text").to_list() == [
        "Hire 3 Spanish speakers for Chat, returns, Spanish, strong in warmth (at least 0.7) (pool 3, target 7 = peak 5 x 1.4)",
        "Cross-train 1 Spanish-speaking agent already on site for Chat, returns, Spanish (pool 3, target 7 = peak 5 x 1.4)",
        "Train 2 of the 3 agents on Chat, returns, Spanish in warmth (customers need 0.70, the pool averages 0.50)",
    ]
    assert recommendation_totals(recs) == "In total: hire 3 agents for 1 queue; cross-train 1 agent for 1 queue; train 2 agents for 1 queue."


def test_fit_report_on_demo_site_with_audit(demo_site, tmp_path):
    site = load_site(demo_site)
    data = fit_report_data(site)
    paths = write_fit_report(data, tmp_path / "hr", key=b"test")
    names = sorted(p.name for p in paths)
    assert names == ["fairness.csv", "fit_by_agent.csv", "fit_queue_gaps.csv", "fit_queue_pools.csv", "fit_recommendations.csv", "fit_report.html"]
    text = (tmp_path / "hr" / "fit_report.html").read_text(encoding="utf-8")
    f = figures(text)
    assert int(f["agents"]) == site.agents.height == 60
    assert int(f["eligible_pairs"]) == data.fit.filter(pl.col("eligible")).height
    audit = pl.read_csv(tmp_path / "hr" / "fairness.csv")
    assert int(f["flagged"]) == audit.filter(pl.col("flag").fill_null(False)).height
    assert set(audit.get_column("category")) == {"sex", "race_ethnicity", "sex x race_ethnicity"}
    # every agent the outcome concerns counted once per category, unknowns included:
    # all 60 for eligibility, the queue's eligible pool for fit above median
    per = {(o, c): n for o, c, n in audit.group_by("outcome", "category").agg(pl.col("agents").sum()).iter_rows()}
    pool = dict(data.fit.group_by("queue_id").agg(pl.col("eligible").sum()).iter_rows())
    for (outcome, category), n in per.items():
        if outcome.startswith("eligible: "):
            assert n == 60, (outcome, category)
        elif outcome.startswith("fit above median of eligible: "):
            assert n == pool[outcome.removeprefix("fit above median of eligible: ")], (outcome, category)
    summary = re.search(r'id="fairness-summary" data-comparisons="(\d+)" data-flagged="(\d+)" data-significant="(\d+)" data-significant-adjusted="(\d+)"', text)
    compared = audit.filter(pl.col("impact_ratio").is_not_null() & ~pl.col("reference"))
    assert int(summary.group(1)) == compared.height == int(f["comparisons"])
    assert int(summary.group(4)) == audit.filter(pl.col("flag").fill_null(False) & pl.col("significant").fill_null(False)).height == int(f["significant_adjusted"])
    assert "Benjamini-Hochberg correction" in text
    # the complete flagged list is shown, not a cut
    flagged_rows = table_rows(text, "fairness-flagged")
    assert len(flagged_rows) == audit.filter(pl.col("flag").fill_null(False) & (pl.col("outcome") != "best fit above median")).height
    # each row names the group it is compared with: the reference of its outcome and category
    refs = {(o, c): g for o, c, g in audit.filter(pl.col("reference")).select("outcome", "category", "group").iter_rows()}
    for r in flagged_rows:
        outcome = {"eligible": "eligible: ", "fit above median of eligible": "fit above median of eligible: ",
                   "assigned among eligible": "assigned among eligible: "}[r[1]] + r[0]
        assert r[7] == refs[(outcome, r[2])], r
    unknown_sex = audit.filter((pl.col("category") == "sex") & (pl.col("group") == "unknown") & (pl.col("outcome") == "best fit above median"))
    assert unknown_sex.height <= 1 and (unknown_sex.height == 0 or not unknown_sex.get_column("included")[0])
    assert "Agent 1<" in text or "Agent 1 " in text or ">Agent 1<" in text  # names shown when not pseudonymised
    recs = pl.read_csv(tmp_path / "hr" / "fit_recommendations.csv")
    assert all(t in text for t in [html.escape(x) for x in recs.get_column("text").to_list()])
    by_agent = pl.read_csv(tmp_path / "hr" / "fit_by_agent.csv")
    assert by_agent.height == data.fit.height
    assert 'id="needs-chart"><svg' in text and 'id="impact-sex"><svg' in text


def test_report_fit_command_pseudonymises(demo_site, tmp_path):
    res = CliRunner().invoke(cli, ["report", "fit", str(demo_site), "--out", str(tmp_path / "hr"), "--pseudonymise"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "hr" / "fit_report.html").read_text(encoding="utf-8")
    by_agent = pl.read_csv(tmp_path / "hr" / "fit_by_agent.csv")
    assert "agent_id" not in by_agent.columns and by_agent.get_column("person").str.contains(r"^P\d{4}$").all()
    assert "Agent 1<" not in text and "A0001" not in text and "A0001" not in (tmp_path / "hr" / "fit_by_agent.csv").read_text()


def test_end_to_end_roster_then_reports_and_exports(tmp_path):
    runner = CliRunner()
    site = tmp_path / "site"
    assert runner.invoke(cli, ["init", str(site), "--agents", "20", "--weeks", "3"]).exit_code == 0
    res = runner.invoke(cli, ["roster", str(site), "--time-limit", "2", "--out", str(tmp_path / "run")])
    if res.exit_code != 0:
        pytest.fail(f"roster failed: {res.output}")
    run_dir = tmp_path / "run"
    from staffing.reports import write_run_reports
    from staffing.reports.labels import status_words

    summary = load_run(run_dir).summary
    # the terminal says what the status means
    assert f"status {summary['status']}: {status_words(summary['status'], summary.get('time_limit_hit'), summary.get('gap'))}" in " ".join(res.output.split())

    paths = write_run_reports(run_dir, site)
    names = {p.relative_to(run_dir).as_posix() for p in paths}
    assert {"roster.xlsx", "report.html", "fit_report/fit_report.html", "fit_report/fairness.csv", "exports/routing_cxone.csv"} <= names
    run = load_run(run_dir)
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    f = figures(text)
    assert f["mean_fit"] == str(run.summary["mean_fit"]) and f["under_coverage_pct"] == str(run.summary["under_coverage_pct"])
    rows = table_rows(text, "coverage-table")
    assert sum(float(r[3].replace(",", "")) for r in rows) == pytest.approx(run.summary["under_coverage_agent_intervals"], abs=0.01)
    assert 'id="satisfaction-histogram"><svg' in text
    s = load_site(site)
    sat = preference_satisfaction(run.shifts, run.activities, s.agents, s.agent_days_off_pref, s.agent_channel_prefs, run.fit)
    assert sat.get_column("satisfaction").mean() == pytest.approx(run.summary["preference_satisfaction_mean"], abs=0.02)
    ics = list((run_dir / "calendars").glob("*.ics"))
    assert len(ics) == run.shifts.get_column("agent_id").n_unique()
    eligible = run.fit.filter(pl.col("eligible"))
    assert pl.read_csv(run_dir / "exports" / "routing_genesys.csv").height == eligible.get_column("agent_id").n_unique()  # one row per user
    for fmt in ("connect", "cxone"):
        t = pl.read_csv(run_dir / "exports" / f"routing_{fmt}.csv")
        assert t.height == eligible.height
    # levels never exceed HR proficiency (issue 14 point 8): Genesys stars = round(HR level)
    skills = s.agent_skills.select("agent_id", "queue_id", pl.col("proficiency").alias("hr"))
    detail = pl.read_csv(run_dir / "exports" / "routing_genesys_detail.csv").join(skills, on=["agent_id", "queue_id"])
    assert detail.height == eligible.height and (detail.get_column("level") == (detail.get_column("hr") + 0.5).floor()).all()
    res = runner.invoke(cli, ["export", str(run_dir), "--format", "ics", "--out", str(tmp_path / "cal"), "--timezone", s.config.site.timezone])
    assert res.exit_code == 0, res.output
    assert f"DTSTART;TZID={s.config.site.timezone}:" in next((tmp_path / "cal").glob("*.ics")).read_text()


def test_heatmap_bands_show_one_missing_agent_and_grey_closed_hours():
    t0 = dt.datetime(2024, 6, 3, 8)
    cov = pl.DataFrame({
        "queue_id": ["q1", "q2"] * 4,
        "interval_start": [t0, t0, t0 + dt.timedelta(minutes=30), t0 + dt.timedelta(minutes=30), t0 + dt.timedelta(hours=1),
                           t0 + dt.timedelta(hours=1), t0 + dt.timedelta(hours=2), t0 + dt.timedelta(hours=2)],
        "required": [2, 1, 2, 0, 3, 3, 0, 0],
        "scheduled": [1.0, 4.0, 1.5, 0.0, 3.0, 4.0, 0.0, 0.0],
    }).with_columns((pl.col("required") - pl.col("scheduled")).clip(lower_bound=0).alias("short"),
                    (pl.col("scheduled") - pl.col("required")).clip(lower_bound=0).alias("over"))
    got = day_time_gaps(cov)
    # 08:00: q1 one short beside q2 three over: the shortfall shows; 08:30 half an agent short (a break);
    # 09:00: one over; 10:00: nothing required, nobody on: closed
    assert got.select("time", "gap", "band").rows() == [("08:00", -1.0, "1 short"), ("08:30", -0.5, "1 short"), ("09:00", 1.0, "1 over"), ("10:00", 0.0, "closed")]
    assert got.get_column("day").unique().to_list() == ["Mon 03 Jun"]
    closed = cov.select("queue_id", "interval_start", (pl.col("required") == 0).alias("closed"))
    per = day_time_gaps(cov, closed, by_queue=True).filter(pl.col("time") == "08:30")
    assert per.select("queue_id", "band").rows() == [("q1", "1 short"), ("q2", "closed")]


def test_warnings_name_time_limit_unmet_zero_satisfaction_and_closed_time(run_dir):
    run = load_run(run_dir)
    run.summary["time_limit_hit"] = True
    run.summary["time_limit_phases"] = "shifts, correction round"
    run.summary["wall_seconds"] = 12.34
    sat = pl.DataFrame({"agent_id": ["A001", "A002", "A003"], "items": [2, 1, 0], "satisfaction": [0.5, 0.0, 1.0]})
    got = {k: (lvl, text) for k, lvl, text in warnings(run, sat)}
    assert set(got) == {"status", "time_limit", "unmet"} | {"zero_satisfaction"}
    assert got["time_limit"] == ("warn", "The wall-clock safety net cut shifts, correction round short (solve 12.3 s): the machine was busy or the limit "
                                         "is below what this site needs, so a rerun with the same seed may give a different roster. A longer limit "
                                         "(--time-limit), or [roster] safety_net_factor on a crowded machine, keeps the roster reproducible.")
    assert got["zero_satisfaction"] == ("warn", "1 agent (33%) have none of their preferences honoured: A002.")
    # Monday 10:00 voice: A001 on break, nobody else: 2 short, the largest
    assert got["unmet"] == ("bad", "17 queue-intervals are short of their requirement (18.0 agent-intervals, 37.50% of required); the largest: "
                                   "Voice, new orders, English on Mon 10:00 (2 short). All are on the workbook's Unmet sheet.")
    # an agent on a queue while it is closed: a roster defect the report calls out
    req = run.requirements.with_columns(
        pl.when((pl.col("queue_id") == "chat/returns/es") & (pl.col("interval_start") == dt.datetime(2024, 6, 3, 8))).then(pl.lit("closed"))
        .otherwise(pl.col("method")).alias("method"))
    closed = {k: t for k, _, t in warnings(type(run)(**{**run.__dict__, "requirements": req}), None)}
    assert closed["closed_time"].startswith("1 agent-intervals (1 agents) are scheduled on queues while they are closed")
    assert "A002 Chat, returns, Spanish Mon 08:00" in closed["closed_time"]
    # with a routing profile that has an open queue too, the agent is reachable: no warning
    acts = run.activities.with_columns(pl.when(pl.col("activity") == "chat/returns/es").then(pl.lit("chat/returns/es|voice/new_orders/en"))
                                       .otherwise(pl.col("activity")).alias("profile"))
    reachable = {k for k, _, _ in warnings(type(run)(**{**run.__dict__, "requirements": req, "activities": acts}), None)}
    assert "closed_time" not in reachable


def test_roster_report_shows_warnings_currency_and_percentages(run_dir, tmp_path):
    run = load_run(run_dir)
    text = write_roster_report(run, tmp_path / "r.html", None, "EUR").read_text(encoding="utf-8")
    assert re.search(r'data-key="cost" data-value="360.0"><div class="value">360.00 EUR<', text)
    assert re.search(r'data-key="under_coverage_pct" data-value="37.5"><div class="value">37.50%<', text)
    assert re.search(r'data-key="preference_satisfaction_mean" data-value="0.8333"><div class="value">83.3%<', text)
    assert 'data-warning="unmet"' in text and "a valid roster, not proven the best possible" in text
    assert 'id="gap-heatmap"><svg' in text and 'id="gap-heatmap-queues"><svg' in text
    assert 'id="service"' not in text  # no simulation in this run


def test_roster_report_shows_simulated_service_against_target(run_dir, tmp_path):
    run = load_run(write_tiny_service(run_dir))
    assert run.service is not None and run.service.height == run.coverage.height
    text = write_roster_report(run, tmp_path / "r.html").read_text(encoding="utf-8")
    rows = {r[0]: r for r in table_rows(text, "service-table")}
    # voice: 14 of 16 intervals short -> SL 0.55 there, 0.9 in 2: weighted (14 x 0.55 + 2 x 0.9) / 16 = 0.59375
    voice_short = run.coverage.filter((pl.col("queue_id") == "voice/new_orders/en") & (pl.col("short") > 0)).height
    expected = (voice_short * 0.55 + (16 - voice_short) * 0.9) / 16
    assert rows["voice/new_orders/en"][2] == f"{100 * expected:.1f}" and rows["voice/new_orders/en"][3] == "80.0"
    assert rows["voice/new_orders/en"][5] == f"{100 * (16 - voice_short) / 16:.1f}"
    assert 'data-warning="service"' in text and "overall service level 75.0%, abandonment 5.0%" in text
    # 0.55 + 0.04 < 0.80: every miss is beyond the half-width
    short = run.coverage.filter(pl.col("scheduled") < pl.col("required"))
    n, nq = short.height, short.get_column("queue_id").n_unique()
    assert f"{n} queue-intervals miss their service-level target in simulation ({nq} queues), {n} of them beyond the 95% half-width" in text
    assert 'id="service-chart"><svg' in text
    # the workbook has the same figures on its Service sheet
    import openpyxl

    from staffing.reports import write_workbook

    wb = openpyxl.load_workbook(write_workbook(run, tmp_path / "w.xlsx"))
    assert "Service" in wb.sheetnames
    srows = list(wb["Service"].iter_rows(min_row=2, values_only=True))
    assert len(srows) == run.service.height and srows[0][:3] == ("chat/returns/es", dt.datetime(2024, 6, 3, 8), 1)
    assert {r[8] for r in srows} == {"yes", "no"}
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Simulated service level, overall"] == 0.75 and summary["Simulated abandonment, overall"] == 0.05


def test_routing_map_names_default_to_the_sites_and_the_file_wins(demo_site, tmp_path):
    from staffing.reports.bundle import routing_map_of

    site = load_site(demo_site)
    assert routing_map_of(site).users["A0001"].name == "Agent 1"
    (tmp_path / "map.toml").write_text('[users.A0001]\nname = "Ana Ruiz"\nemail = "ana@example.com"\n', encoding="utf-8")
    mapping = routing_map_of(site, tmp_path / "map.toml")
    assert (mapping.users["A0001"].name, mapping.users["A0001"].email) == ("Ana Ruiz", "ana@example.com")
    assert mapping.users["A0002"].name == "Agent 2" and mapping.users["A0002"].email is None
    assert routing_map_of(None) is None
