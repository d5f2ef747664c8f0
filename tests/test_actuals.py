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
