"""End-to-end roster tests on small hand-made sites."""

from __future__ import annotations

import json

import polars as pl
import pytest

from staffing.roster import SolveParams, solve
from staffing.errors import OutputError
from staffing.roster.output import TABLES, write_run

from test_roster_fixtures import problem, random_site

PARAMS = SolveParams(time_limit_seconds=8, max_passes=2)


def test_solve_small_site_writes_every_table_and_summary(tmp_path):
    agents, queues, need = random_site(10)
    p = problem(agents, queues, need)
    r = solve(p, PARAMS)
    out = write_run(tmp_path / "run", r, p.requirements, p.fit)
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    s = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "bound", "gap", "under_coverage_agent_intervals", "under_coverage_pct", "under_coverage_bound_pct", "required_agent_intervals", "mean_fit", "preference_satisfaction_min", "preference_satisfaction_mean", "switches", "paid_hours", "cost", "wall_seconds", "seed", "workers", "versions", "week_start", "site"):
        assert key in s, key
    cov = pl.read_parquet(out / "coverage.parquet")
    assert s["under_coverage_agent_intervals"] == round(float(cov["short"].sum()), 4)
    assert s["required_agent_intervals"] == int(cov["required"].sum())


def test_same_seed_same_roster():
    agents, queues, need = random_site(8, seed=3)
    p = problem(agents, queues, need)
    a = solve(p, PARAMS.replace(bound=False))
    b = solve(p, PARAMS.replace(bound=False))
    assert a.shifts.equals(b.shifts) and a.activities.equals(b.activities)


def test_failed_write_leaves_earlier_outputs(tmp_path, monkeypatch):
    agents, queues, need = random_site(6)
    p = problem(agents, queues, need)
    r = solve(p, PARAMS.replace(bound=False))
    out = write_run(tmp_path / "run", r, p.requirements, p.fit)
    before = (out / "summary.json").read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_csv", boom)
    with pytest.raises(OutputError, match=r"cannot write the run folder .*: disk full"):
        write_run(out, r, p.requirements, p.fit)
    assert (out / "summary.json").read_text() == before
    assert not [f for f in out.iterdir() if f.name.startswith(".roster-")]


def test_exact_per_day_cpsat_activity_method_gives_a_valid_roster(tmp_path):
    """The alternative activity phase (one CP-SAT model per day) on a small site: every
    planned shift gets an activity in every interval and pauses in their windows."""
    agents, queues, need = random_site(5, seed=2)
    p = problem(agents, queues, need)
    r = solve(p, PARAMS.replace(activity_method="cpsat", bound=False))
    assert r.shifts.height > 0
    step = p.interval_minutes
    want = r.shifts.select("agent_id", pl.col("start").dt.date().alias("day"), ((pl.col("end") - pl.col("start")).dt.total_minutes() // step).alias("len"))
    got = r.activities.group_by("agent_id", pl.col("interval_start").dt.date().alias("day")).len()
    assert want.sort("agent_id", "day").equals(got.sort("agent_id", "day").select("agent_id", "day", pl.col("len").cast(want["len"].dtype)))
    eligible = {(a["id"], q) for a in agents for q in a["skills"]}
    on_queue = r.activities.filter(pl.col("channel").is_not_null())
    assert on_queue.height > 0 and all((a, q) in eligible for a, q in on_queue.select("agent_id", "activity").iter_rows())
    assert r.summary["under_coverage_agent_intervals"] == pytest.approx(float(r.coverage["short"].sum()))


def test_site_toml_roster_table_sets_solver_params_and_cli_overrides_win(base_site):
    from staffing.errors import InputError
    from staffing.roster.run import site_params
    from staffing.site import load_site

    with open(base_site / "site.toml", "a") as f:
        f.write("\n[roster]\ntime_limit_seconds = 12.5\nmax_passes = 3\n")
    site = load_site(base_site)
    params = site_params(site)
    assert (params.time_limit_seconds, params.max_passes, params.workers) == (12.5, 3, 2)
    assert site_params(site, time_limit_seconds=30.0).time_limit_seconds == 30.0
    with open(base_site / "site.toml", "a") as f:
        f.write("max_pases = 4\n")
    with pytest.raises(InputError, match="unknown roster parameter\\(s\\) max_pases"):
        site_params(load_site(base_site))
