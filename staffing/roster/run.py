"""One roster stage on a loaded site: build the problem, solve, write the run folder."""

from __future__ import annotations

import datetime as dt
import time
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
    started: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """Solve the week's roster, give every working interval its routing profile, simulate the
    roster's service and, where a queue-interval misses its target beyond the simulation's
    half-width, raise its requirement and solve again (site.toml `[pooling]`: at most
    `correction_rounds` rounds, `replications` per simulation, 0 = no simulation); write the
    run folder (with `service` and summary.json's "simulation"); returns summary.json.

    The time limit bounds all of it, from `started` (on `clock`; the command's start, default
    now): `time_budgets` splits it into one budget per solve (deterministic, so the same seed
    gives the same roster), and a correction round the wall clock no longer leaves room for
    (less than `CORRECTION_MIN_SHARE` of its share left) is skipped and said so (docs/roster.md "Determinism and the time limit")."""
    say = progress or (lambda _text: None)
    t0 = clock() if started is None else started
    pooling = site.config.pooling
    params = site_params(site, time_limit_seconds=time_limit, workers=workers, seed=seed, log=log or None)
    run_seed = params.seed
    simulate = pooling.replications > 0 and any(m in ("erlang_c", "erlang_a", "chat") for m in site.targets().get_column("model"))
    rounds = pooling.correction_rounds if simulate else 0
    budgets, nets = time_budgets(params, rounds)
    limit = params.time_limit_seconds
    timing: dict = {"limit_seconds": limit, "safety_net_seconds": round(limit * params.safety_net_factor, 3),
                    "round_budget_seconds": [round(b, 3) for b in budgets], "before_solve_seconds": round(clock() - t0, 3),
                    "solve_seconds": [], "simulation_seconds": [], "skipped_rounds": 0}
    raised: list[int] = []
    req = requirements
    skipped = False
    for round_no in range(rounds + 1):
        # each round is one solve on its own deterministic budget and the command's one deadline
        round_deadline = t0 + nets[round_no]
        this_round = _round_progress(solver_progress, round_no + 1, rounds + 1, t0, limit, clock)
        solved_at = clock()
        problem = RosterProblem.from_site(site, req, fit, week)
        candidate = solve(problem, params.replace(time_limit_seconds=budgets[round_no]), this_round, clock=clock, deadline=round_deadline,
                          known_bound=None if round_no == 0 else first_round_bound(result.summary), warm=None if round_no == 0 else result.warm)
        timing["solve_seconds"].append(round(clock() - solved_at, 3))
        candidate.activities = routing_profiles(candidate.activities, fit, requirement_pools(req), req)
        plan = _sim_plan(site, req, candidate, week)
        candidate.coverage = with_logged_in(candidate.coverage, plan.logged_in() if plan is not None else None)
        result, result_req = candidate, req
        simulated_at = clock()
        service = simulate_plan(plan, pooling.replications, run_seed, workers=1) if simulate and plan is not None else None
        if service is None:
            break
        timing["simulation_seconds"].append(round(clock() - simulated_at, 3))
        missed = missed_targets(service.service)
        say(f"roster round {round_no + 1}: {result.summary_text()}")
        say(f"simulation: {_service_text(service.summary())}; {missed.height} queue-interval(s) miss their target beyond the half-width")
        if round_no == rounds or missed.height == 0:
            break
        if t0 + nets[round_no + 1] - clock() < CORRECTION_MIN_SHARE * (nets[round_no + 1] - nets[round_no]):
            skipped = True
            timing["skipped_rounds"] = rounds - round_no
            say(f"correction: skipped, the time limit ({limit:g} s) leaves no room for another solve; the roster of round {round_no + 1} is kept")
            break
        raised.append(missed.height)
        req = raise_requirements(req, missed)
        say(f"correction: one more agent on each of {missed.height} queue-interval(s); solving again")
    if skipped:  # the safety net: a quiet machine would have run the round
        phases = [p for p in result.summary.get("time_limit_phases", "").split(", ") if p]
        result.summary["time_limit_hit"] = True
        result.summary["time_limit_phases"] = ", ".join(phases + ["correction round"])
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
    timing["elapsed_seconds"] = round(clock() - t0, 3)  # up to writing the run folder
    result.summary["time_budget"] = timing
    with atomic_folder(out) as stage:  # the roster and its simulation switch in as one unit
        write_run(stage, result, result_req, fit)
        if service is not None:
            write_simulation(stage, service)
            result.summary["simulation"] = service.summary()
    say(f"roster: {result.summary_text()}")
    return result.summary


def first_round_bound(summary: dict) -> tuple[float, dict] | None:
    """The first solve's lower bound for a correction round, with its stats: still valid there,
    since the correction only raises requirements (more required never means less short), but
    weaker; saves solving the whole-week LP again. The summary says where it comes from. None
    when the first solve had no bound."""
    bound = summary.get("under_coverage_bound_agent_intervals")
    if bound is None:
        return None
    stats = {k: v for k, v in summary.get("shift_phase", {}).items() if k.startswith("bound_")}
    stats["bound_status"] = f"{stats.get('bound_status', '')} (the first round's bound, before the correction raised requirements: valid, not tight)".strip()
    return float(bound), stats


CORRECTION_MIN_SHARE = 0.5  # a correction round starts only with at least this share of its wall-clock share left (else it could not finish in time)


def time_budgets(params: SolveParams, rounds: int) -> tuple[list[float], list[float]]:
    """How one time limit L is shared by the first solve and `rounds` simulation-correction
    rounds: (the time limit each solve's deterministic budgets are sized for, the wall-clock
    safety net of each solve in seconds after the command's start). The budgets split L as
    1 : w : w ... (`correction_weight` w); the nets split `safety_net_factor` x L the same way,
    less `tail_share` kept for the last simulation and the writing. Depends on the
    parameters alone, so the same limit gives the same budgets on any machine."""
    weights = [1.0] + [params.correction_weight] * rounds
    total = sum(weights)
    limit = params.time_limit_seconds
    net = limit * params.safety_net_factor * (1 - params.tail_share)
    budgets = [limit * w / total for w in weights]
    nets = [net * sum(weights[: i + 1]) / total for i in range(len(weights))]
    return budgets, nets


def _round_progress(solver_progress: Callable[..., None] | None, round_no: int, rounds: int, t0: float, limit: float,
                    clock: Callable[[], float]) -> Callable[..., None] | None:
    """The solver's progress of one round, its time counted from the command's start against
    the command's limit (what the user typed), and the round named."""
    if solver_progress is None:
        return None

    def relay(**fields: object) -> None:
        fields.update(elapsed=clock() - t0, limit=limit)
        solver_progress(round_no=round_no, rounds=rounds, **fields)

    return relay


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
