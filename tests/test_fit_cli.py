"""`staffing fit` and `staffing fit calibrate` on the demo site and the tiny base site."""

from __future__ import annotations

import tomllib

import polars as pl
import pytest
from click.testing import CliRunner

from profiles import COMPONENTS, FIT_SCHEMA
from staffing.cli.main import cli
from staffing.site.generate import GROUND_TRUTH_WEIGHTS


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_fit_summary_says_protected_columns_were_set_aside(runner, demo_site):
    result = runner.invoke(cli, ["fit", str(demo_site)])
    assert result.exit_code == 0, result.output
    assert "Fit of 60 agents to 16 queues" in result.stdout
    assert "voice/new_orders/en" in result.stdout
    assert "set aside for the fairness audit only: name, race_ethnicity, sex" in result.stderr


def test_fit_writes_parquet_atomically_with_the_contract_schema(runner, demo_site, tmp_path):
    out = tmp_path / "fit.parquet"
    result = runner.invoke(cli, ["fit", str(demo_site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    fit = pl.read_parquet(out)
    assert dict(fit.schema) == FIT_SCHEMA
    assert fit.height == 60 * 16
    assert [p.name for p in tmp_path.iterdir()] == ["fit.parquet"]  # no temp file left behind
    assert "Wrote fit matrix (960 agent x queue rows" in result.stderr


def test_fit_writes_csv(runner, demo_site, tmp_path):
    out = tmp_path / "fit.csv"
    assert runner.invoke(cli, ["fit", str(demo_site), "--out", str(out)]).exit_code == 0
    assert pl.read_csv(out).columns == list(FIT_SCHEMA)


def test_fit_rejects_other_file_types(runner, demo_site, tmp_path):
    result = runner.invoke(cli, ["fit", str(demo_site), "--out", str(tmp_path / "fit.xlsx")])
    assert result.exit_code == 2
    assert "expected a file ending in .parquet or .csv, got" in result.output
    assert not (tmp_path / "fit.xlsx").exists()


def test_fit_out_into_missing_folder_creates_it(runner, demo_site, tmp_path):
    result = runner.invoke(cli, ["fit", str(demo_site), "--out", str(tmp_path / "new" / "fit.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "fit.csv").read_text().startswith("agent_id,queue_id,eligible,")


def test_fit_out_under_a_file_is_an_output_error(runner, demo_site, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = runner.invoke(cli, ["fit", str(demo_site), "--out", str(tmp_path / "afile" / "fit.csv")])
    assert result.exit_code == 5
    assert f"Error: cannot write {tmp_path / 'afile' / 'fit.csv'}" in result.output
    assert "Traceback" not in result.output


def test_fit_agent_breakdown(runner, demo_site):
    result = runner.invoke(cli, ["fit", str(demo_site), "--agent", "A0001"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Agent A0001: fit per queue (best first)"
    assert sum(1 for line in lines if line.startswith("  ") and " fit " in line) == 16
    assert "vs need" in result.stdout


def test_fit_queue_best_agents_and_gaps(runner, demo_site):
    result = runner.invoke(cli, ["fit", str(demo_site), "--queue", "chat/returns/es", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Queue chat/returns/es: ")
    assert "customers prefer: " in result.stdout
    assert "Best-fitting agents (top 3):" in result.stdout
    assert "Gaps of the eligible pool" in result.stdout


def test_fit_unknown_agent_is_an_input_error(runner, demo_site):
    result = runner.invoke(cli, ["fit", str(demo_site), "--agent", "NOPE"])
    assert result.exit_code == 3
    assert "unknown agent 'NOPE'; check the agent_id column" in result.output


def test_fit_unknown_queue_is_an_input_error(runner, demo_site):
    result = runner.invoke(cli, ["fit", str(demo_site), "--queue", "voice/x/en"])
    assert result.exit_code == 3
    assert "unknown queue 'voice/x/en'; expected one of voice/new_orders/en" in result.output


def test_fit_without_dir_is_a_usage_error(runner):
    result = runner.invoke(cli, ["fit"])
    assert result.exit_code == 2
    assert "Missing argument 'DIR' (the site folder)" in result.output


def test_fit_missing_site_folder(runner, tmp_path):
    result = runner.invoke(cli, ["fit", str(tmp_path / "nothing")])
    assert result.exit_code == 3
    assert "site folder not found" in result.output


def test_calibrate_recovers_the_demo_ground_truth_and_writes_toml(runner, demo_site, tmp_path):
    out = tmp_path / "fit_weights.toml"
    result = runner.invoke(cli, ["fit", "calibrate", str(demo_site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "held-out RMSE of CSAT: site.toml" in result.stdout
    weights = tomllib.loads(out.read_text())["fit_weights"]
    assert set(weights) == set(COMPONENTS)
    for k in COMPONENTS:
        assert weights[k] == pytest.approx(GROUND_TRUTH_WEIGHTS[k], abs=0.08), k
    assert "[fit_weights]" in result.stdout


def test_calibrate_fcr(runner, demo_site):
    result = runner.invoke(cli, ["fit", "calibrate", str(demo_site), "--target", "fcr", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "held-out log-loss of FCR" in result.stdout


def test_calibrate_without_outcomes_file(runner, base_site):
    toml = base_site / "site.toml"
    toml.write_text("\n".join(line for line in toml.read_text().splitlines() if not line.startswith("outcomes")))
    result = runner.invoke(cli, ["fit", "calibrate", str(base_site)])
    assert result.exit_code == 3
    assert "no outcomes file; add outcomes = \"outcomes.csv\" under [files]" in result.output


def test_calibrate_with_too_few_outcomes(runner, base_site):
    result = runner.invoke(cli, ["fit", "calibrate", str(base_site)])
    assert result.exit_code == 3
    assert "cannot calibrate" in result.output


def test_base_site_fit_runs(runner, base_site):
    result = runner.invoke(cli, ["fit", str(base_site)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args", [["fit", "--help"], ["fit", "calibrate", "--help"]])
def test_fit_commands_have_help_with_an_example(runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_calibrate_usage_line_has_no_stray_dir(runner):
    result = runner.invoke(cli, ["fit", "calibrate", "--help"])
    assert result.output.startswith("Usage: cli fit calibrate [OPTIONS] DIR") or result.output.startswith("Usage: staffing fit calibrate [OPTIONS] DIR")
