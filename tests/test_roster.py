"""End-to-end roster tests on small hand-made sites."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from staffing.roster import SolveParams, solve
from staffing.errors import OutputError
from staffing.roster.output import TABLES, write_run

from test_roster_fixtures import problem, random_site

PARAMS = SolveParams(time_limit_seconds=8, max_passes=2, safety_net_factor=10)  # budgets of 8 s; the wall-clock net far off, so a crowded machine cannot change the roster
WEEK = dt.date(2026, 11, 30)  # a week the base site's history can forecast


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
    with pytest.raises(InputError, match="key roster.max_pases: unknown roster parameter; expected one of "):
        site_params(load_site(base_site))


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("workers = 0", "site.toml, key roster.workers: must be >= 1, got 0"),
        ("time_limit_seconds = -5", "site.toml, key roster.time_limit_seconds: must be > 0, got -5"),
        ("time_limit_seconds = inf", "site.toml, key roster.time_limit_seconds: expected a finite number, got inf"),
        ("workers = 1.5", "site.toml, key roster.workers: expected a whole number, got 1.5"),
        ('activity_method = "exact"', "site.toml, key roster.activity_method: expected one of flow, cpsat, got 'exact'"),
        ("polish_half_width = -1", "site.toml, key roster.polish_half_width: must be >= 0, got -1"),
    ],
)
def test_site_toml_roster_table_is_checked_as_strictly_as_the_cli(base_site, table, expected):
    from staffing.errors import InputError
    from staffing.roster.run import site_params
    from staffing.site import load_site

    with open(base_site / "site.toml", "a") as f:
        f.write(f"\n[roster]\n{table}\n")
    with pytest.raises(InputError) as err:
        site_params(load_site(base_site))
    assert [str(p) for p in err.value.problems] == [expected]


class _Stop(Exception):
    pass


def _capture_params(monkeypatch) -> list:
    import staffing.roster.run as run

    seen = []

    def fake_solve(problem, params, progress=None, **_clock_and_deadline):
        seen.append(params)
        raise _Stop

    monkeypatch.setattr(run, "solve", fake_solve)
    return seen


def test_site_toml_roster_defaults_reach_the_pipeline_demo_and_scenarios(base_site, tmp_path, monkeypatch):
    """`staffing demo` and `staffing scenario` leave the solver settings to site.toml
    `[roster]` unless their options are given (the CLI options default to None)."""
    from staffing.cli.demo_cmd import command as demo
    from staffing.cli.scenario_cmd import command as scenario
    from staffing.pipeline import run_plan
    from staffing.scenarios.runner import run_scenarios

    for cmd in (demo, scenario):
        defaults = {p.name: p.default for p in cmd.params}
        assert defaults["time_limit"] is None and defaults["workers"] is None
    assert {p.name: p.default for p in scenario.params}["seed"] is None
    with open(base_site / "site.toml", "a") as f:
        f.write("\n[roster]\ntime_limit_seconds = 12.5\nworkers = 1\nseed = 7\n")
    seen = _capture_params(monkeypatch)
    with pytest.raises(_Stop):
        run_plan(base_site, tmp_path / "run", WEEK, reports=False)
    with pytest.raises(_Stop):
        run_plan(base_site, tmp_path / "run2", WEEK, time_limit=30.0, reports=False)
    # the first solve is sized for its share of the command's limit: 2/3 with one correction round possible
    assert [(p.time_limit_seconds, p.workers, p.seed) for p in seen] == [(pytest.approx(12.5 * 2 / 3), 1, 7), (pytest.approx(20.0), 1, 7)]
    results = run_scenarios(base_site, [], tmp_path / "scen", week=WEEK, parallel="serial")
    assert results[0].status == "failed" and (seen[-1].time_limit_seconds, seen[-1].workers, seen[-1].seed) == (pytest.approx(12.5 * 2 / 3), 1, 7)
