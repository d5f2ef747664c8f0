"""`staffing forecast` and `staffing requirements` on the demo site, and bad user forecasts."""

import polars as pl
from click.testing import CliRunner

from staffing.cli.main import cli


def test_forecast_writes_every_interval_of_the_week(demo_site, tmp_path):
    out = tmp_path / "fc.parquet"
    result = CliRunner().invoke(cli, ["forecast", str(demo_site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    fc = pl.read_parquet(out)
    assert fc.height == 16 * 7 * 48
    assert fc.get_column("interval_start").min().isoformat() == "2026-11-30T00:00:00"
    assert fc.get_column("contacts").min() >= 0
    assert "Forecast for the week of 2026-11-30" in result.output


def test_backtest_prints_pooled_row_beside_naive_and_floor(demo_site):
    result = CliRunner().invoke(cli, ["forecast", str(demo_site), "--backtest", "1"])
    assert result.exit_code == 0, result.output
    pooled = [l for l in result.output.splitlines() if l.startswith("ALL")]
    assert len(pooled) == 1
    wape, naive, floor = (float(x.rstrip("%")) for x in pooled[0].split()[3:6])
    assert floor <= wape < naive  # the method beats seasonal naive and cannot beat the floor


def test_requirements_from_user_forecast_equal_requirements_from_site(demo_site, tmp_path):
    runner = CliRunner()
    fc = tmp_path / "fc.csv"
    assert runner.invoke(cli, ["forecast", str(demo_site), "--out", str(fc)]).exit_code == 0
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    r1 = runner.invoke(cli, ["requirements", str(demo_site), "--out", str(a)])
    r2 = runner.invoke(cli, ["requirements", str(demo_site), "--forecast", str(fc), "--out", str(b)])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    ra, rb = pl.read_parquet(a), pl.read_parquet(b)
    # the CSV round trip rounds nothing that changes an integer requirement
    assert ra.get_column("required_agents").to_list() == rb.get_column("required_agents").to_list()
    closed = ra.filter(pl.col("method") == "closed")
    assert closed.get_column("required_agents").max() == 0
    assert "agent-hours to schedule" in r1.output


def test_bad_user_forecast_names_file_row_and_column(demo_site, tmp_path):
    runner = CliRunner()
    fc = tmp_path / "fc.csv"
    runner.invoke(cli, ["forecast", str(demo_site), "--out", str(fc)])
    lines = fc.read_text().splitlines()
    cells = lines[4].split(",")
    cells[2] = "-7"
    lines[4] = ",".join(cells)
    fc.write_text("\n".join(lines) + "\n")
    result = runner.invoke(cli, ["requirements", str(demo_site), "--forecast", str(fc)])
    assert result.exit_code == 3
    assert "fc.csv row 5, column contacts: '-7' (expected a number >= 0)" in result.output
    assert "Traceback" not in result.output


def test_week_must_be_a_monday(demo_site):
    """The demo site's weeks start on Monday ([site] week_start default)."""
    result = CliRunner().invoke(cli, ["forecast", str(demo_site), "--week", "2026-12-02"])
    assert result.exit_code == 2
    assert "Invalid value for '--week': 2026-12-02 is a Wednesday; weeks of this site start on Monday ([site] week_start), so use 2026-11-30 or 2026-12-07" in result.output
