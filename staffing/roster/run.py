"""One roster stage on a loaded site: build the problem, solve, write the run folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem
from staffing.io import atomic_folder
from staffing.roster.output import check_run_target, write_run
from staffing.roster.params import ParamError, SolveParams
from staffing.roster.problem import RosterProblem
from staffing.roster.solve import RosterResult, solve
from staffing.routing import missed_targets, raise_requirements, requirement_pools, routing_profiles
from staffing.simulate.run import SimPlan, simulate_plan, write_simulation
from staffing.site import Site


def roster_run_folder(
    site: Site,
    requirements: pl.DataFrame,
    fit: pl.DataFrame,
    out: str | Path,
    week: dt.date,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    solver_progress: Callable[..., None] | None = None,
) -> dict:
    """Solve the week's roster, give every working interval its routing profile, simulate the
    roster's service and, where a queue-interval misses its target beyond the simulation's
    half-width, raise its requirement and solve again (site.toml `[pooling]`: at most
    `correction_rounds` rounds, `replications` per simulation, 0 = no simulation); write the
    run folder (with `service` and summary.json's "simulation"); returns summary.json."""
    say = progress or (lambda _text: None)
    pooling = site.config.pooling
    run_seed = site_params(site, seed=seed).seed
    simulate = pooling.replications > 0 and any(m in ("erlang_c", "erlang_a", "chat") for m in site.targets().get_column("model"))
    rounds = pooling.correction_rounds if simulate else 0
    raised: list[int] = []
    req = requirements
    for round_no in range(rounds + 1):
        # each round is one solve with its own time limit; the display says which round it shows
        this_round = (lambda n: lambda **kw: solver_progress(round_no=n, rounds=rounds + 1, **kw))(round_no + 1) if solver_progress else None
        result = roster_result(site, req, fit, week, time_limit=time_limit, workers=workers, seed=seed, log=log, solver_progress=this_round)
        result.activities = routing_profiles(result.activities, fit, requirement_pools(req), req)
        plan = _sim_plan(site, req, result, week)
        result.coverage = with_logged_in(result.coverage, plan.logged_in() if plan is not None else None)
        service = simulate_plan(plan, pooling.replications, run_seed, workers=1) if simulate and plan is not None else None
        if service is None:
            break
        missed = missed_targets(service.service)
        say(f"roster round {round_no + 1}: {result.summary_text()}")
        say(f"simulation: {_service_text(service.summary())}; {missed.height} queue-interval(s) miss their target beyond the half-width")
        if round_no == rounds or missed.height == 0:
            break
        raised.append(missed.height)
        req = raise_requirements(req, missed)
        say(f"correction: one more agent on each of {missed.height} queue-interval(s); solving again")
    result.summary["site_dir"] = str(Path(site.root).resolve())
    result.summary["timezone"] = site.config.site.timezone
    result.summary["bound_refers_to"] = (
        "under-coverage of required_agents: agents primary on each queue against its share of its pool's heads "
        "(docs/multiskill.md); service is in 'simulation'"
    )
    if simulate:
        result.summary["service_correction"] = {
            "rounds": len(raised),
            "raised_queue_intervals": raised,
            "still_missed_queue_intervals": int(missed.height),
            "replications": pooling.replications,
            "seed": run_seed,
        }
    check_run_target(out)
    with atomic_folder(out) as stage:  # the roster and its simulation switch in as one unit
        write_run(stage, result, req, fit)
        if service is not None:
            write_simulation(stage, service)
            result.summary["simulation"] = service.summary()
    say(f"roster: {result.summary_text()}")
    return result.summary


def _sim_plan(site: Site, requirements: pl.DataFrame, result: RosterResult, week: dt.date) -> SimPlan | None:
    """The routing-simulation plan of a roster (staffing.simulate), in memory; None when the
    requirements have no rows. The requirements' handle times already carry a site
    calibration (docs/calibration.md); its patience factor is applied to the targets here,
    as the requirements did."""
    from staffing.calibration import apply_calibration

    forecast = requirements.select("queue_id", "interval_start", "contacts", "aht_seconds")
    if forecast.height == 0:
        return None
    _, targets, note = apply_calibration(site, forecast.head(0), site.targets())
    plan = SimPlan.from_tables(
        forecast, targets, result.activities, result.shifts, site.interval_minutes,
        open_hours=site.open_hours(week), routing=site.config.routing,
    )
    return replace(plan, calibration=note)


def with_logged_in(coverage: pl.DataFrame, logged_in: pl.DataFrame | None) -> pl.DataFrame:
    """The coverage table with `logged_in`: agents whose routing profile holds the queue,
    time-averaged like `scheduled` (docs/contracts.md); `scheduled` where the plan has no
    figure for the queue (a queue the routing simulation does not model)."""
    cov = coverage.drop("logged_in", strict=False)
    if logged_in is None:
        return cov.with_columns(pl.col("scheduled").alias("logged_in"))
    return cov.join(logged_in, on=["queue_id", "interval_start"], how="left").with_columns(pl.col("logged_in").fill_null(pl.col("scheduled")))


def _service_text(sim: dict) -> str:
    """One line of the simulated service for the progress output."""
    overall = sim.get("overall", {})
    sl, ab = overall.get("service_level"), overall.get("abandon_rate")
    share = sim.get("share_intervals_meeting_target")
    parts = []
    if sl is not None:
        parts.append(f"service level {100 * sl:.1f}%")
    if ab is not None:
        parts.append(f"abandonment {100 * ab:.1f}%")
    if share is not None:
        parts.append(f"{100 * share:.1f}% of open queue-intervals with volume meet their target")
    return ", ".join(parts) or "nothing simulated"


def site_params(site: Site, **overrides: object) -> SolveParams:
    """SolveParams: the defaults (params.py), then site.toml `[roster]`, then the caller's
    (CLI) overrides where it gives one (None = not given). `[roster]` is checked as
    strictly as the CLI options: each bad key is named with its value and what is expected."""
    try:
        params = SolveParams.from_mapping(dict(site.config.roster))
    except ParamError as exc:  # load_site checks [roster] too; a site built in code may not have been loaded
        raise InputError([Problem("site.toml", text, column=f"roster.{key}", label="key") for key, text in exc.problems], headline="invalid site.toml") from None
    return params.replace(**overrides)


def roster_result(site: Site, requirements: pl.DataFrame, fit: pl.DataFrame, week: dt.date, *, time_limit: float | None = None, workers: int | None = None, seed: int | None = None, log: bool = False, solver_progress: Callable[..., None] | None = None) -> RosterResult:
    """Build the problem from a loaded site and solve it with the site's solver settings."""
    problem = RosterProblem.from_site(site, requirements, fit, week)
    params = site_params(site, time_limit_seconds=time_limit, workers=workers, seed=seed, log=log or None)
    return solve(problem, params, solver_progress)
