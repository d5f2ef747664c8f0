"""A mutation test of the validator: one real run folder, many single changes a careless or
dishonest edit could make, each made consistently (Parquet and CSV together, manifest
rewritten to match, so only the meaning can give it away). Every one must be caught; the
untouched folder must pass."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import EXIT_VALIDATION
from staffing.io import MANIFEST, write_manifest
from staffing.validate import validate_run


@pytest.fixture(scope="module")
def rostered(tmp_path_factory) -> tuple[Path, Path]:
    """A 20-agent generated site and its roster (4 s, 1 worker)."""
    root = tmp_path_factory.mktemp("mutations")
    site, run = root / "site", root / "run"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(site), "--agents", "20", "--weeks", "3", "--seed", "1"]).exit_code == 0
    result = runner.invoke(cli, ["roster", str(site), "--time-limit", "4", "--workers", "1", "--out", str(run)])
    assert result.exit_code == 0, result.output
    return site, run


def _copy(rostered, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(rostered[1], run)
    return run


def _table(run: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(run / f"{name}.parquet")


def _put(run: Path, name: str, frame: pl.DataFrame) -> None:
    """Write a table the way the roster does (Parquet and CSV)."""
    frame.write_parquet(run / f"{name}.parquet")
    frame.write_csv(run / f"{name}.csv")


def _summary(run: Path, **changes) -> None:
    data = json.loads((run / "summary.json").read_text())
    data.update(changes)
    (run / "summary.json").write_text(json.dumps(data, indent=2))


def _reseal(run: Path) -> None:
    """Rewrite the manifest to match the edited files, as a tamperer would."""
    names = list(json.loads((run / MANIFEST).read_text())["files"])
    write_manifest(run, names)


# --- the mutations -------------------------------------------------------------------------------


def _first_shift_with_breaks(run: Path) -> tuple[pl.DataFrame, int]:
    shifts = _table(run, "shifts")
    idx = shifts.with_row_index("i").filter(pl.col("breaks").str.len_chars() > 0).get_column("i")[0]
    return shifts, int(idx)


def breaks_in_the_first_quarter_hour(run: Path) -> None:
    """Move every break of one shift to the first 15 minutes (activities left as they were)."""
    shifts, i = _first_shift_with_breaks(run)
    start = shifts["start"][i]
    n = len(shifts["breaks"][i].split(";"))
    first = f"{start:%H:%M}-{start + dt.timedelta(minutes=15):%H:%M}"
    text = ";".join([first] * n)
    _put(run, "shifts", shifts.with_columns(pl.when(pl.int_range(pl.len()) == i).then(pl.lit(text)).otherwise(pl.col("breaks")).alias("breaks")))


def unskilled_queue_with_the_fit_table_edited(run: Path) -> None:
    """One agent-interval moved to a queue the agent is not eligible for, and the fit table
    edited to call the pair eligible (the run's own fit table agrees with the activity)."""
    fit = _table(run, "fit")
    acts = _table(run, "activities")
    worked = acts.filter(pl.col("channel").is_not_null()).select("agent_id").unique().sort("agent_id")
    pair = fit.join(worked, on="agent_id").filter(~pl.col("eligible")).sort("agent_id", "queue_id").row(0, named=True)
    channel = pair["queue_id"].split("/")[0]
    row = acts.with_row_index("i").filter((pl.col("agent_id") == pair["agent_id"]) & pl.col("channel").is_not_null()).get_column("i")[0]
    hit = pl.int_range(pl.len()) == row
    _put(run, "activities", acts.with_columns(
        pl.when(hit).then(pl.lit(pair["queue_id"])).otherwise(pl.col("activity")).alias("activity"),
        pl.when(hit).then(pl.lit(channel)).otherwise(pl.col("channel")).alias("channel"),
    ))
    same = (pl.col("agent_id") == pair["agent_id"]) & (pl.col("queue_id") == pair["queue_id"])
    _put(run, "fit", fit.with_columns(pl.when(same).then(True).otherwise(pl.col("eligible")).alias("eligible")))


def requirements_lowered_to_what_was_scheduled(run: Path) -> None:
    """Requirement cut to the heads scheduled, coverage and summary rewritten: 0% short claimed."""
    cov = _table(run, "coverage")
    lowered = cov.with_columns(pl.min_horizontal(pl.col("required"), pl.col("scheduled").floor().cast(pl.Int64)).alias("required"))
    lowered = lowered.with_columns(
        (pl.col("required") - pl.col("scheduled")).clip(lower_bound=0).alias("short"),
        (pl.col("scheduled") - pl.col("required")).clip(lower_bound=0).alias("over"),
    )
    _put(run, "coverage", lowered)
    req = _table(run, "requirements").drop("required_agents").join(
        lowered.select("queue_id", "interval_start", pl.col("required").alias("required_agents")), on=["queue_id", "interval_start"], how="left"
    ).with_columns(pl.col("required_agents").fill_null(0))
    _put(run, "requirements", req.select(_table(run, "requirements").columns))
    required = int(lowered["required"].sum())
    under = float(lowered["short"].sum())
    _summary(run, required_agent_intervals=required, under_coverage_agent_intervals=under, under_coverage_pct=100 * under / required,
             under_coverage_bound_agent_intervals=0.0, under_coverage_bound_pct=0.0, gap=under / required)


def gap_zero_and_optimal(run: Path) -> None:
    _summary(run, gap=0.0, status="OPTIMAL")


def bound_inflated(run: Path) -> None:
    data = json.loads((run / "summary.json").read_text())
    _summary(run, bound=data["objective"] * 1.5)


def cost_cut_ten_percent(run: Path) -> None:
    data = json.loads((run / "summary.json").read_text())
    _summary(run, cost=round(data["cost"] * 0.9, 4))


def mean_fit_raised_in_the_activities(run: Path) -> None:
    """Every activity's fit set to 1 and the summary's mean fit with it: the fit table says otherwise."""
    acts = _table(run, "activities")
    _put(run, "activities", acts.with_columns(pl.when(pl.col("fit").is_not_null()).then(1.0).otherwise(None).alias("fit")))
    _summary(run, mean_fit=1.0)


def profile_widened_without_logged_in(run: Path) -> None:
    """Every agent's profile cut to the primary queue alone while coverage keeps the logged-in
    counts of the wider profiles (or, on a run without multi-queue profiles, logged_in raised)."""
    acts = _table(run, "activities")
    cov = _table(run, "coverage")
    if acts.filter(pl.col("profile").str.contains("|", literal=True)).height:
        _put(run, "activities", acts.with_columns(pl.when(pl.col("profile").is_not_null()).then(pl.col("activity")).alias("profile")))
    else:
        _put(run, "coverage", cov.with_columns(pl.col("logged_in") + 1.0))


MUTATIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "breaks in the first 15 minutes": (breaks_in_the_first_quarter_hour, "pause_windows: "),
    "unskilled queue, fit table edited": (unskilled_queue_with_the_fit_table_edited, "fit: "),
    "requirements lowered, 0% short": (requirements_lowered_to_what_was_scheduled, "requirements: "),
    "gap 0 and OPTIMAL": (gap_zero_and_optimal, "summary: expected gap "),
    "bound inflated": (bound_inflated, "summary: expected bound at most the objective "),
    "cost cut 10%": (cost_cut_ten_percent, "summary: expected cost "),
    "mean fit from the activities": (mean_fit_raised_in_the_activities, "summary: expected mean_fit "),
    "profiles cut, logged_in kept": (profile_widened_without_logged_in, "logged_in: "),
}


def test_untouched_run_folder_passes(rostered):
    report = validate_run(rostered[1])
    assert report.violations == []
    assert report.checks["requirements_from_site"] == report.checks["fit_from_site"] == "hard"


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_consistent_mutation_is_caught(rostered, tmp_path, name):
    mutate, prefix = MUTATIONS[name]
    run = _copy(rostered, tmp_path)
    mutate(run)
    _reseal(run)
    report = validate_run(run)
    assert [v for v in report.violations if v.startswith("files: ")] == []  # resealed: only the meaning shows
    assert any(v.startswith(prefix) for v in report.violations), report.violations


def test_csv_edited_alone_is_caught(rostered, tmp_path):
    run = _copy(rostered, tmp_path)
    shifts = pl.read_csv(run / "shifts.csv", schema=_table(run, "shifts").schema)
    shifts.with_columns((pl.col("paid_minutes") + 60).alias("paid_minutes")).write_csv(run / "shifts.csv")
    _reseal(run)  # even with a matching manifest the CSV disagrees with its Parquet
    report = validate_run(run)
    assert [v for v in report.violations if v.startswith("files: ")] == [
        f"files: shifts.csv row 2, column paid_minutes: {shifts['paid_minutes'][0] + 60} differs from shifts.parquet ({shifts['paid_minutes'][0]}); "
        f"{shifts.height} cell(s) differ in that column; the validator reads the Parquet, so an edit of the CSV alone is not a valid change"
    ]


def test_tampered_summary_fails_the_manifest_and_the_cli_exits_1(rostered, tmp_path):
    run = _copy(rostered, tmp_path)
    cost_cut_ten_percent(run)
    result = CliRunner().invoke(cli, ["validate", str(run)])
    assert result.exit_code == EXIT_VALIDATION
    assert "  - files: summary.json: changed since the run wrote it (size or SHA-256 differs from manifest.json)" in result.output
    assert "  - summary: expected cost " in result.output


def test_simulating_a_run_afterwards_keeps_its_manifest_true(rostered, tmp_path):
    """`staffing simulate RUN` rewrites summary.json and adds service.*: a legitimate later
    writer records them in the manifest, so the folder still validates; an edit made before
    it still shows."""
    run = _copy(rostered, tmp_path)
    (run / "penalties.csv").write_text((run / "penalties.csv").read_text() + "\n")
    week = json.loads((run / "summary.json").read_text())["week_start"]
    # simulate reads the week's forecast from the run folder (the demo pipeline writes it)
    assert CliRunner().invoke(cli, ["forecast", str(rostered[0]), "--week", week, "--out", str(run / "forecast.parquet")]).exit_code == 0
    result = CliRunner().invoke(cli, ["simulate", str(run), "--replications", "2"])
    assert result.exit_code == 0, result.output
    files = [v for v in validate_run(run).violations if v.startswith("files: ")]
    assert files == [
        "files: penalties.csv: changed since the run wrote it (size or SHA-256 differs from manifest.json)",
        f"files: penalties.csv has {_table(run, 'penalties').height + 1} rows, penalties.parquet has {_table(run, 'penalties').height}; "
        "the validator reads the Parquet, so an edit of the CSV alone is not a valid change",
    ]
    assert json.loads((run / MANIFEST).read_text())["files"]["service.parquet"]["bytes"] == (run / "service.parquet").stat().st_size
