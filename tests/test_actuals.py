"""`staffing actuals`: plan versus actual on the small synthetic log (values worked by hand
in tests/test_import.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from forecasts.queueing import erlang_a
from staffing.actuals import plan_vs_actual, read_actuals
from staffing.cli.main import cli
from staffing.errors import InputError
from staffing.site import load_site
from staffing.site.importer import import_calls

DATA = Path(__file__).parent / "data" / "import"
WEEK = dt.date(2026, 1, 5)


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("actuals") / "site"
    import_calls(DATA / "small_log.tsv", site, DATA / "small_map.toml")
    return site


def test_queue_totals_service_and_forecast_error(small_site):
    site = load_site(small_site)
    result = plan_vs_actual(site, WEEK, read_actuals(site))
    q = {r["queue_id"]: r for r in result.queues.iter_rows(named=True)}
    # no history before the week: the plan forecasts 0, so every contact is error
    assert (q["voice/sales/en"]["forecast"], q["voice/sales/en"]["offered"], q["voice/sales/en"]["interval_wape"]) == (0.0, 5, 1.0)
    # sales: waits 0, 30, 60 (abandoned), 20, 5 -> 3 of 5 within 20 s; support: 10 s answered, 40 s abandoned
    assert q["voice/sales/en"]["achieved_service_level"] == pytest.approx(0.6)
    assert q["voice/support/en"]["achieved_service_level"] == pytest.approx(0.5)
    assert q["voice/sales/en"]["abandon_rate"] == pytest.approx(0.2)
    # ANN and BOB serve sales at Monday 08:00 (2 agent-intervals), BOB on Tuesday 00:00, ANN on Tuesday 08:00
    assert q["voice/sales/en"]["serving_agent_hours"] == pytest.approx(2.0)


def test_site_check_is_erlang_a_at_the_actual_load_and_headcount(small_site):
    site = load_site(small_site)
    check = plan_vs_actual(site, WEEK, read_actuals(site)).site
    row = check.filter(pl.col("interval_start") == dt.datetime(2026, 1, 5, 8, 0)).row(0, named=True)
    # Monday 08:00: 3 sales contacts offered (AHT 160 s), 2 agents on duty, patience 115 s, T = 20 s
    assert (row["offered"], row["agents_on_duty"]) == (3, 2)
    assert row["load_erlangs"] == pytest.approx(3 * 160 / 1800)
    expected = float(erlang_a(2, 3 * 160 / 1800, 160, 115, 20).service_level)
    assert row["predicted_service_level"] == pytest.approx(expected)
    assert row["achieved_service_level"] == pytest.approx(1 / 3)


def test_week_without_actuals_is_an_input_error(small_site):
    site = load_site(small_site)
    with pytest.raises(InputError) as info:
        plan_vs_actual(site, dt.date(2026, 1, 12), read_actuals(site))
    assert str(info.value.problems[0]) == "actuals.csv: no actuals in the week of 2026-01-12; the file covers 2026-01-05 to 2026-01-06"


def test_cli_actuals(small_site, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["actuals", str(small_site), "--week", "2026-01-05", "--out", str(tmp_path / "cmp.csv")])
    assert res.exit_code == 0, res.output
    assert "voice/sales/en" in res.output and "Erlang A at the actual load and headcount" in res.output
    assert pl.read_csv(tmp_path / "cmp.csv").height == 2 * 7 * 48
    missing = runner.invoke(cli, ["actuals", str(small_site), "--week", "2026-01-12"])
    assert missing.exit_code == 3 and "no actuals in the week of 2026-01-12" in missing.output


def _figures(html: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'data-key="([a-z_]+)" data-value="([^"]*)"', html))


def test_report_html_and_tables_next_to_each_other(small_site, tmp_path):
    """`staffing actuals` writes actuals.html and its tables as one folder. The week's figures
    are those of test_queue_totals_service_and_forecast_error: 7 offered, 4 within 20 s
    (sales 3 of 5, support 1 of 2), 2 abandoned; forecast 0 (no history before the week)."""
    out = tmp_path / "report"
    res = CliRunner().invoke(cli, ["actuals", str(small_site), "--week", "2026-01-05", "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["actuals.html", "days.csv", "half_hours.csv", "intervals.csv", "queues.csv", "site_check.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
    html = (out / "actuals.html").read_text()
    fig = _figures(html)
    assert float(fig["offered"]) == 7 and float(fig["forecast"]) == 0 and fig["volume_error"] == ""
    assert float(fig["achieved_service_level"]) == pytest.approx(4 / 7)
    assert float(fig["achieved_abandon_rate"]) == pytest.approx(2 / 7)
    for chart_id in ("day-volume", "day-service", "day-abandon", "day-staff", "interval-volume", "interval-staff", "interval-service"):
        assert f'id="{chart_id}"><svg' in html
    # per day, read independently from actuals.csv: Monday 5 offered (3 within, 1 abandoned), Tuesday 2 (1, 1)
    raw = pl.read_csv(small_site / "actuals.csv", try_parse_dates=True).group_by(pl.col("interval_start").dt.date().alias("date")).agg(
        pl.col("offered").sum(), pl.col("answered_within_target").sum(), pl.col("abandoned").sum(), pl.col("agents_on_duty").sum())
    days = pl.read_csv(out / "days.csv", try_parse_dates=True).join(raw, on="date", suffix="_raw").sort("date").head(2)
    assert days.get_column("offered").to_list() == days.get_column("offered_raw").to_list() == [5, 2]
    assert days.get_column("achieved_service_level").to_list() == pytest.approx([3 / 5, 1 / 2])
    assert days.get_column("achieved_abandon_rate").to_list() == pytest.approx([1 / 5, 1 / 2])
    # on duty: agents on duty per interval (site-wide, once per interval) x 0.5 h
    assert days.get_column("on_duty_agent_hours").to_list() == pytest.approx([1.5, 1.0])


def test_default_report_folder_is_under_runs(small_site):
    res = CliRunner().invoke(cli, ["actuals", str(small_site), "--week", "2026-01-05"])
    assert res.exit_code == 0, res.output
    assert (small_site / "runs" / "actuals-2026-01-05" / "actuals.html").is_file()
    assert f"Wrote {small_site / 'runs' / 'actuals-2026-01-05' / 'actuals.html'}" in res.output
